// corral-bench: corral against runc, crun, conmon and other supervision models, measured in the
// same run on the same bundle. See bench/scenarios/*.json for what a run does and
// bench/RESULTS.md for figures.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "apps/corral-bench/bundle.hpp"
#include "apps/corral-bench/descriptor_limit.hpp"
#include "apps/corral-bench/hold_models.hpp"
#include "apps/corral-bench/machine.hpp"
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/options.hpp"
#include "apps/corral-bench/peers.hpp"
#include "apps/corral-bench/private_mounts.hpp"
#include "apps/corral-bench/results.hpp"
#include "apps/corral-bench/scenarios.hpp"
#include "apps/corral-bench/svg_chart.hpp"
#include "runtime/factory.hpp"

namespace fs = std::filesystem;
using namespace corral::bench;

namespace {

std::string beside_this_binary(const std::string& relative) {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / relative).lexically_normal().string();
}

// Throughput vs N (spawn storm), memory per container vs N (hold) and, youki-style, the
// median create, start and delete times of each runtime.
std::string chart(const Results& results, const std::string& caption) {
  Panel phases{"Lifecycle: create + start + delete (p50)", "milliseconds", "", false, {}, {}, {}};
  phases.segments = {"create", "start", "delete"};
  Panel storm{"Spawn storm: containers started per second",
              "containers (N)",
              "containers / s",
              false,
              {},
              {},
              {}};
  Panel hold{"Hold: monitor PSS per container",
             "containers (N)",
             "KiB per container (log)",
             true,
             {},
             {},
             {}};
  std::map<std::string, std::size_t> storm_index, hold_index;
  for (const Row& row : results.rows()) {
    if (row.scenario == "lifecycle_phases") {
      phases.bars.push_back(
          {row.peer,
           {row.metrics.value("create_p50_ms", 0.0), row.metrics.value("start_p50_ms", 0.0),
            row.metrics.value("delete_p50_ms", 0.0)}});
      continue;
    }
    Panel* panel = nullptr;
    std::map<std::string, std::size_t>* index = nullptr;
    const char* metric = nullptr;
    if (row.scenario == "storm") panel = &storm, index = &storm_index, metric = "containers_per_s";
    if (row.scenario == "hold") panel = &hold, index = &hold_index, metric = "pss_kib_per_ctr";
    if (!panel || !row.metrics.contains(metric)) continue;
    if (!index->count(row.peer)) {
      (*index)[row.peer] = panel->series.size();
      panel->series.push_back({row.peer, {}});
    }
    panel->series[(*index)[row.peer]].points.emplace_back(row.n, row.metrics[metric].get<double>());
  }
  std::vector<Panel> panels{storm, hold};
  if (!phases.bars.empty()) panels.push_back(std::move(phases));
  return render_svg(caption, panels);
}

int run(const Options& options) {
  nlohmann::json scenarios = load_scenarios(options);
  if (::geteuid() != 0) throw std::runtime_error("corral-bench needs root (namespaces, cgroups)");
  const std::string wrapper = enter_private_mount_namespace();
  const std::uint64_t descriptor_limit = raise_descriptor_limit();

  char pattern[4096];
  std::snprintf(pattern, sizeof pattern, "%s/corral-bench-XXXXXX", options.work_parent.c_str());
  if (!::mkdtemp(pattern))
    throw std::runtime_error("cannot make a work directory under " + options.work_parent);
  // The work directory goes away however the run ends (the peers' containers are deleted by
  // their scenarios).
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } work_dir_guard{pattern};
  PeerContext context;
  context.work_dir = pattern;
  BusyboxRootfs rootfs(context.work_dir);
  context.rootfs = rootfs.path();
  context.true_bundle =
      write_bundle(context.work_dir + "/bundle-true", rootfs.path(), {"/bin/true"});
  context.sleep_bundle =
      write_bundle(context.work_dir + "/bundle-sleep", rootfs.path(), {"/bin/sleep", "100000"});
  context.corral_cli =
      options.corral_cli.empty() ? beside_this_binary("../corral/corral") : options.corral_cli;
  context.corrald =
      options.corrald.empty() ? beside_this_binary("../corrald/corrald") : options.corrald;
  context.init_path = options.init_path.empty() ? corral::default_init_path() : options.init_path;

  Results results;
  results.add_rule({"lifecycle", "wall_p50_ms", "corral"});
  results.add_rule({"lifecycle_phases", "sum_p50_ms", "corral"});
  results.add_rule({"storm", "containers_per_s", "corral"});
  results.add_rule({"hold", "pss_kib_per_ctr", "corral-lib"});
  results.add_rule({"exit_storm", "all_exits_ms", "corral-lib"});
  results.add_rule({"state_io", "writes_per_s", "corral-reactor-1"});
  results.add_rule({"footprint", "init_peak_kib", "corral"});

  auto owned = make_peers(context);
  PeerList peers;
  std::map<std::string, std::string> versions;
  for (auto& p : owned) {
    if (!wanted(options.peers, p->name())) continue;
    if (auto why = p->unavailable()) {
      for (const char* s : {"lifecycle", "lifecycle_phases", "storm", "footprint"})
        results.skip({s, p->name(), *why});
      continue;
    }
    peers.push_back(p.get());
  }
  for (const char* program : {"runc", "crun", "conmon"})
    versions[program] = program_version(find_program(program));
  versions["corral"] = program_version(context.corral_cli);

  std::fprintf(stderr, "corral-bench: %zu peers (%s), work dir %s, %s\n", peers.size(),
               scenarios["file"].get<std::string>().c_str(), context.work_dir.c_str(),
               wrapper.c_str());
  auto t0 = Clock::now();
  if (wanted(options.scenarios, "lifecycle")) run_lifecycle(scenarios["lifecycle"], peers, results);
  if (wanted(options.scenarios, "storm")) run_storm(scenarios["storm"], peers, results);
  if (wanted(options.scenarios, "hold")) {
    std::vector<std::unique_ptr<HoldModel>> models;
    for (auto& m : make_hold_models(context))
      if (m->on_request() ? !options.peers.empty() && wanted(options.peers, m->name())
                          : wanted(options.peers, m->name()))
        models.push_back(std::move(m));
    run_hold_and_exit(scenarios["hold"], models, results);
  }
  if (wanted(options.scenarios, "state_io")) run_state_io(scenarios["state_io"], results);
  if (wanted(options.scenarios, "footprint")) run_footprint(scenarios["footprint"], peers, results);

  nlohmann::ordered_json meta;
  meta["command"] = options.command_line;
  meta["scenario_file"] = scenarios["file"];
  meta["scenarios"] = scenarios;
  meta["wrapper"] = wrapper;
  meta["descriptor_limit"] = descriptor_limit;
  meta["machine"] = describe_machine();
  std::ifstream load("/proc/loadavg");
  std::string loadavg;
  std::getline(load, loadavg);
  meta["loadavg_at_end"] = loadavg;
  meta["versions"] = versions;
  meta["duration_s"] = seconds_since(t0);
  results.set_meta(meta);
  results.print_tables(stdout);
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << results.to_json().dump(2) << "\n";
  }
  if (!options.svg_path.empty()) {
    std::ofstream(options.svg_path) << chart(results, options.command_line);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--hold-worker")
    return hold_worker_main(std::vector<std::string>(argv + 2, argv + argc));
  try {
    Options options = parse_options(argc, argv);
    if (options.help) {
      std::fputs(usage(), stdout);
      return 0;
    }
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-bench: %s\n%s", e.what(), usage());
    return 2;
  }
}
