#include "apps/corral-bench/options.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace corral::bench {

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

const char* usage() {
  return "usage: corral-bench [--quick] [--scenarios FILE] [--json FILE] [--svg FILE]\n"
         "                    [--only lifecycle,storm,hold,state_io,footprint]\n"
         "                    [--peers floor,corral-lib,corral,corrald,runc,crun,...]\n"
         "                    [--corral PATH] [--corrald PATH] [--init PATH] [--work-dir DIR]\n"
         "Runs corral's benchmark scenarios against every available peer (corrald, runc, crun,\n"
         "conmon, wait models) in the same run, interleaved; prints medians and ratios to corral.\n"
         "Needs root. Scenario sizes come from bench/scenarios/default.json (quick.json with\n"
         "--quick) unless --scenarios names another file.\n";
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      auto eq = a.find('=');
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    auto is = [&](const char* flag) {
      return a == flag || a.rfind(std::string(flag) + "=", 0) == 0;
    };
    if (a == "--quick")
      o.quick = true;
    else if (a == "--help" || a == "-h")
      o.help = true;
    else if (is("--scenarios"))
      o.scenario_file = value();
    else if (is("--json"))
      o.json_path = value();
    else if (is("--svg"))
      o.svg_path = value();
    else if (is("--only"))
      o.scenarios = split(value());
    else if (is("--peers"))
      o.peers = split(value());
    else if (is("--corral"))
      o.corral_cli = value();
    else if (is("--corrald"))
      o.corrald = value();
    else if (is("--init"))
      o.init_path = value();
    else if (is("--work-dir"))
      o.work_parent = value();
    else
      throw std::invalid_argument("unknown argument: " + a);
  }
  return o;
}

nlohmann::json load_scenarios(const Options& options) {
  std::string path = options.scenario_file;
  if (path.empty())
    path =
        std::string(CORRAL_BENCH_SCENARIO_DIR) + (options.quick ? "/quick.json" : "/default.json");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the scenario definitions " + path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object())
    throw std::runtime_error("scenario definitions " + path + ": not a JSON object");
  j["file"] = path;
  return j;
}

bool wanted(const std::vector<std::string>& list, const std::string& name) {
  if (list.empty()) return true;
  for (const std::string& item : list)
    if (item == name) return true;
  return false;
}

}  // namespace corral::bench
