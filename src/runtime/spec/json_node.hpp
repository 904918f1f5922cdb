#pragma once
// JsonNode: a JSON value together with its path in config.json ("process.user.uid",
// "mounts[2].options[0]"), so that every type error names the field that is wrong. Used only
// inside the config parser: the typed getters throw ConfigFieldError, which parse_config turns
// into a ConfigInvalid corral::Error before returning (nothing escapes the library).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace corral::spec_detail {

class ConfigFieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string path)
      : value_(&value), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }

  // The member `key` of this object; nullopt when it is absent or null (Go's encoding/json,
  // which writes most configs, treats null as absent).
  std::optional<JsonNode> get(const char* key) const;
  // As get(), but an absent member is an error ("process.args: required").
  JsonNode required(const char* key) const;
  bool has(const char* key) const { return get(key).has_value(); }

  std::string as_string() const;
  bool as_bool() const;
  std::uint32_t as_u32() const;
  std::uint64_t as_u64() const;
  std::int64_t as_i64() const;
  int as_int() const;

  std::vector<JsonNode> items() const;                            // of an array
  std::vector<std::pair<std::string, JsonNode>> members() const;  // of an object
  std::vector<std::string> as_strings() const;
  std::map<std::string, std::string> as_string_map() const;

  // Whether the value asks for nothing: null, false, zero, "", [], or an object whose members
  // all ask for nothing. Fields corral cannot honour are refused only when not empty.
  bool is_empty_value() const;

  // Throws ConfigFieldError("PATH: what").
  [[noreturn]] void fail(const std::string& what) const;

  // The value as a short JSON text for messages (truncated when long).
  std::string brief() const;

 private:
  void expect_object() const;
  [[noreturn]] void type_error(const char* expected) const;

  const nlohmann::json* value_;
  std::string path_;
};

// The name of a JSON value's kind in messages: "string", "unsigned integer", "object", ...
std::string json_kind(const nlohmann::json& value);

}  // namespace corral::spec_detail
