// Scenario 1: create + start + wait + delete of one /bin/true container, sequentially, many
// times (crun's "100 x /bin/true in sequence"): p50/p90/p99 of wall and CPU time per container.
#include <unistd.h>

#include <map>

#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"

namespace corral::bench {

void run_lifecycle(const nlohmann::json& def, const PeerList& peers, Results& results) {
  const int reps = def.value("repetitions", 100);
  std::map<Peer*, std::vector<double>> wall, cpu;
  std::map<Peer*, std::string> failed;
  std::map<Peer*, int> failures;
  Progress progress("lifecycle", reps);
  for (int rep = 0; rep < reps; ++rep) {
    for (Peer* peer : rotated(peers, rep)) {
      if (failed.count(peer)) continue;
      std::string id =
          "lc-" + peer->name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(rep);
      double cpu0 = cpu_self_and_children_s();
      auto t0 = Clock::now();
      std::string error = peer->run_once(id);
      double w = seconds_since(t0);
      double c = cpu_self_and_children_s() - cpu0;
      if (!error.empty()) {
        ++failures[peer];
        if (wall[peer].empty()) failed[peer] = error;  // fails from the start: skip it
        continue;
      }
      wall[peer].push_back(w * 1e3);
      cpu[peer].push_back(c * 1e3);
    }
    progress.step();
  }
  for (Peer* peer : peers) {
    if (failed.count(peer)) {
      results.skip({"lifecycle", peer->name(), failed[peer]});
      continue;
    }
    Row row{"lifecycle", peer->name(), 0, {}, {}};
    row.metrics["runs"] = wall[peer].size();
    row.metrics["wall_p50_ms"] = quantile(wall[peer], 0.5);
    row.metrics["wall_p90_ms"] = quantile(wall[peer], 0.9);
    row.metrics["wall_p99_ms"] = quantile(wall[peer], 0.99);
    row.metrics["cpu_p50_ms"] = quantile(cpu[peer], 0.5);
    row.metrics["cpu_p90_ms"] = quantile(cpu[peer], 0.9);
    row.metrics["cpu_p99_ms"] = quantile(cpu[peer], 0.99);
    if (failures[peer]) row.note = std::to_string(failures[peer]) + " runs failed";
    results.add(std::move(row));
  }
}

}  // namespace corral::bench
