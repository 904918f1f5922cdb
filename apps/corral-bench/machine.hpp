#pragma once
// What the run was measured on, for the results file: kernel, CPUs, memory, load, the peers'
// versions.
#include <nlohmann/json.hpp>

namespace corral::bench {

nlohmann::ordered_json describe_machine();
// The first line of `program --version`, or "" when it cannot be run.
std::string program_version(const std::string& program);

}  // namespace corral::bench
