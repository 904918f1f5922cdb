#include "apps/corral/process_file.hpp"

#include <fmt/format.h>

#include "apps/corral/file_text.hpp"
#include "runtime/spec/config_fragment.hpp"

namespace corral::cli {

Expected<Process> parse_process_json(std::string_view json_text, std::string_view source) {
  auto config =
      parse_config_fragment(json_text, source, "/process", "a JSON object describing a process");
  if (!config) return fail(std::move(config).error());
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
