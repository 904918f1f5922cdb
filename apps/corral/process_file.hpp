#pragma once
// `corral exec --process FILE`: a JSON object shaped like config.json's "process".
#include <string>
#include <string_view>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

// The config parser has no public entry point for a lone process object (parse_process is
// private to config_parser.cpp), so the object is parsed inside a minimal config document:
//   {"ociVersion": "1.2.0", "process": <the object>, "root": {"path": "/"}}
// which gives exactly config.json's rules and messages ("process.args: ..."). `source` names the
// text in errors; "args" must be present and not empty, since exec needs something to run.
Expected<Process> parse_process_json(std::string_view json_text, std::string_view source);

// Reads and parses FILE.
Expected<Process> load_process_file(const std::string& path);

}  // namespace corral::cli
