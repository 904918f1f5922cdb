#include "runtime/spec/config_fragment.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/spec/config_parser.hpp"

namespace corral {

Expected<Config> parse_config_fragment(std::string_view json_text, std::string_view source,
                                       std::string_view pointer, std::string_view expected) {
  nlohmann::json fragment;
  try {
    fragment = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    return fail(
        Error(ErrorCode::ConfigInvalid, fmt::format("{}: malformed JSON: {}", source, e.what())));
  }
  if (!fragment.is_object())
    return fail(Error(ErrorCode::ConfigInvalid, fmt::format("{}: expected {}", source, expected)));
  nlohmann::json document{{"ociVersion", "1.2.0"}, {"root", {{"path", "/"}}}};
  document[nlohmann::json::json_pointer(std::string(pointer))] = std::move(fragment);
  auto config = parse_config(document.dump(), "/");
  if (!config) return fail(std::move(config).error().with_context(source));
  return config;
}

}  // namespace corral
