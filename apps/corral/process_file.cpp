#include "apps/corral/process_file.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "apps/corral/file_text.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::cli {

Expected<Process> parse_process_json(std::string_view json_text, std::string_view source) {
  nlohmann::json process;
  try {
    process = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    return fail(
        Error(ErrorCode::ConfigInvalid, fmt::format("{}: malformed JSON: {}", source, e.what())));
  }
  if (!process.is_object()) {
    return fail(Error(ErrorCode::ConfigInvalid,
                      fmt::format("{}: expected a JSON object describing a process", source)));
  }
  nlohmann::json wrapper{
      {"ociVersion", "1.2.0"}, {"process", std::move(process)}, {"root", {{"path", "/"}}}};
  auto config = parse_config(wrapper.dump(), "/");
  if (!config) return fail(std::move(config).error().with_context(source));
  if (!config->process || config->process->args.empty()) {
    return fail(Error(ErrorCode::ConfigInvalid,
                      fmt::format("{}: process.args: required, and must not be empty", source)));
  }
  return std::move(*config->process);
}

Expected<Process> load_process_file(const std::string& path) {
  const std::string source = fmt::format("exec --process {}", path);
  auto text = read_text_file(path);
  if (!text) return fail(std::move(text).error().with_context(source));
  return parse_process_json(*text, source);
}

}  // namespace corral::cli
