#pragma once
// The text `corral --help` and `corral COMMAND --help` print, generated from the same flag tables
// parse_cli() uses, so the usage cannot drift from what is accepted.
#include <string>
#include <string_view>

namespace corral::cli {

// command empty (or unknown): the global usage.
std::string usage_text(std::string_view command);

}  // namespace corral::cli
