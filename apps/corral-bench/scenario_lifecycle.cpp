// Scenario 1: create + start + wait + delete of one /bin/true container, sequentially, many
// times (crun's "100 x /bin/true in sequence", the main figure): p50/p90/p99 of wall and CPU
// time per container. Then youki's hyperfine-style figures: create, start and delete timed
// apart (the wait for /bin/true between start and delete is not timed), p50/p90 each, for the
// peers that have these commands; in the results as "lifecycle_phases".
#include <unistd.h>

#include <map>

#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"

namespace corral::bench {

namespace {

void run_whole(int reps, const PeerList& peers, Results& results) {
  std::map<Peer*, std::vector<double>> wall, cpu;
  std::map<Peer*, std::string> failed;
  std::map<Peer*, int> failures;
  Progress progress("lifecycle", reps);
  for (int rep = 0; rep < reps; ++rep) {
    for (Peer* peer : rotated(peers, rep)) {
      if (failed.count(peer)) continue;
      std::string id =
          "lc-" + peer->name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(rep);
      double cpu0 = cpu_self_and_children_s() + peer->unreaped_cpu_s();
      auto t0 = Clock::now();
      std::string error = peer->run_once(id);
      double w = seconds_since(t0);
      double c = cpu_self_and_children_s() + peer->unreaped_cpu_s() - cpu0;
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

void run_phases(int reps, const PeerList& all, Results& results) {
  PeerList peers;
  for (Peer* p : all)
    if (p->supports_phases()) peers.push_back(p);
  struct Samples {
    std::vector<double> create, start, remove, sum;
  };
  std::map<Peer*, Samples> ms;
  std::map<Peer*, std::string> failed;
  std::map<Peer*, int> failures;
  Progress progress("lifecycle phases", reps);
  for (int rep = 0; rep < reps; ++rep) {
    for (Peer* peer : rotated(peers, rep)) {
      if (failed.count(peer)) continue;
      std::string id =
          "ph-" + peer->name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(rep);
      PhaseTimes t;
      std::string error = peer->run_phases(id, t);
      if (!error.empty()) {
        ++failures[peer];
        if (ms[peer].sum.empty()) failed[peer] = error;
        continue;
      }
      Samples& s = ms[peer];
      s.create.push_back(t.create_s * 1e3);
      s.start.push_back(t.start_s * 1e3);
      s.remove.push_back(t.delete_s * 1e3);
      s.sum.push_back((t.create_s + t.start_s + t.delete_s) * 1e3);
    }
    progress.step();
  }
  for (Peer* peer : peers) {
    if (failed.count(peer)) {
      results.skip({"lifecycle_phases", peer->name(), failed[peer]});
      continue;
    }
    const Samples& s = ms[peer];
    Row row{"lifecycle_phases", peer->name(), 0, {}, {}};
    row.metrics["runs"] = s.sum.size();
    row.metrics["create_p50_ms"] = quantile(s.create, 0.5);
    row.metrics["create_p90_ms"] = quantile(s.create, 0.9);
    row.metrics["start_p50_ms"] = quantile(s.start, 0.5);
    row.metrics["start_p90_ms"] = quantile(s.start, 0.9);
    row.metrics["delete_p50_ms"] = quantile(s.remove, 0.5);
    row.metrics["delete_p90_ms"] = quantile(s.remove, 0.9);
    row.metrics["sum_p50_ms"] = quantile(s.sum, 0.5);
    if (failures[peer]) row.note = std::to_string(failures[peer]) + " runs failed";
    results.add(std::move(row));
  }
}

}  // namespace

void run_lifecycle(const nlohmann::json& def, const PeerList& peers, Results& results) {
  const int reps = def.value("repetitions", 100);
  run_whole(reps, peers, results);
  run_phases(def.value("phase_repetitions", reps), peers, results);
}

}  // namespace corral::bench
