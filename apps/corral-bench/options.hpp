#pragma once
// corral-bench's command line and the scenario definitions it runs (bench/scenarios/*.json).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::bench {

struct Options {
  bool quick = false;
  std::string scenario_file;  // "" = bench/scenarios/{default,quick}.json
  std::string json_path, svg_path;
  std::vector<std::string> scenarios;  // empty = all
  std::vector<std::string> peers;      // empty = all
  std::string corral_cli;              // "" = ../corral/corral beside this binary
  std::string corrald;                 // "" = ../corrald/corrald beside this binary
  std::string init_path;               // "" = corral-init found next to / in the build tree
  std::string work_parent = "/run";    // the run's scratch directory is made under it
  std::string command_line;
  bool help = false;
};

// Throws std::invalid_argument naming the flag on a bad command line.
Options parse_options(int argc, char** argv);
const char* usage();

// The scenario definitions, from Options::scenario_file or the source tree's bench/scenarios/.
nlohmann::json load_scenarios(const Options& options);

bool wanted(const std::vector<std::string>& list, const std::string& name);

}  // namespace corral::bench
