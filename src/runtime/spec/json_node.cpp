#include "runtime/spec/json_node.hpp"

#include <fmt/format.h>

#include <limits>

namespace corral::spec_detail {

using nlohmann::json;

std::string json_kind(const json& value) {
  if (value.is_number_unsigned()) return "unsigned integer";
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();
}

namespace {

bool is_identifier(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string child_path(const std::string& parent, const std::string& key) {
  if (!is_identifier(key)) return fmt::format("{}[{}]", parent, json(key).dump());
  return parent.empty() ? key : parent + "." + key;
}

}  // namespace

void JsonNode::fail(const std::string& what) const {
  throw ConfigFieldError(path_.empty() ? what : path_ + ": " + what);
}

void JsonNode::type_error(const char* expected) const {
  fail(fmt::format("expected {}, got {}", expected, json_kind(*value_)));
}

std::string JsonNode::brief() const {
  std::string text = value_->dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

void JsonNode::expect_object() const {
  if (!value_->is_object()) type_error("an object");
}

std::optional<JsonNode> JsonNode::get(const char* key) const {
  expect_object();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonNode(*it, child_path(path_, key));
}

JsonNode JsonNode::required(const char* key) const {
  auto node = get(key);
  if (!node) JsonNode(*value_, child_path(path_, key)).fail("required but missing");
  return *node;
}

std::string JsonNode::as_string() const {
  if (!value_->is_string()) type_error("a string");
  return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
  if (!value_->is_boolean()) type_error("a boolean");
  return value_->get<bool>();
}

std::uint64_t JsonNode::as_u64() const {
  if (!value_->is_number_unsigned()) type_error("an unsigned integer");
  return value_->get<std::uint64_t>();
}

std::uint32_t JsonNode::as_u32() const {
  std::uint64_t v = as_u64();
  if (v > std::numeric_limits<std::uint32_t>::max()) {
    fail(fmt::format("{} is out of range (at most {})", v,
                     std::numeric_limits<std::uint32_t>::max()));
  }
  return static_cast<std::uint32_t>(v);
}

std::int64_t JsonNode::as_i64() const {
  if (!value_->is_number_integer()) type_error("an integer");
  if (value_->is_number_unsigned() &&
      value_->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    fail(fmt::format("{} is out of range (at most {})", value_->get<std::uint64_t>(),
                     std::numeric_limits<std::int64_t>::max()));
  }
  return value_->get<std::int64_t>();
}

int JsonNode::as_int() const {
  std::int64_t v = as_i64();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    fail(fmt::format("{} is out of range for a 32-bit integer", v));
  }
  return static_cast<int>(v);
}

std::vector<JsonNode> JsonNode::items() const {
  if (!value_->is_array()) type_error("an array");
  std::vector<JsonNode> out;
  out.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i) {
    out.emplace_back((*value_)[i], fmt::format("{}[{}]", path_, i));
  }
  return out;
}

std::vector<std::pair<std::string, JsonNode>> JsonNode::members() const {
  expect_object();
  std::vector<std::pair<std::string, JsonNode>> out;
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    out.emplace_back(it.key(), JsonNode(it.value(), child_path(path_, it.key())));
  }
  return out;
}

std::vector<std::string> JsonNode::as_strings() const {
  std::vector<std::string> out;
  for (const auto& item : items()) out.push_back(item.as_string());
  return out;
}

std::map<std::string, std::string> JsonNode::as_string_map() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, node] : members()) out.emplace(key, node.as_string());
  return out;
}

bool JsonNode::is_empty_value() const {
  const nlohmann::json& v = *value_;
  if (v.is_null()) return true;
  if (v.is_array()) return v.empty();
  if (v.is_string()) return v.get_ref<const std::string&>().empty();  // json::empty() is false
  if (v.is_object()) {
    for (const auto& [key, member] : members()) {
      if (!member.is_empty_value()) return false;
    }
    return true;
  }
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() == 0;
  if (v.is_number_integer()) return v.get<std::int64_t>() == 0;
  if (v.is_number_float()) return v.get<double>() == 0.0;
  return false;
}

}  // namespace corral::spec_detail
