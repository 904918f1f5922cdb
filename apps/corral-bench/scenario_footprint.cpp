// Scenario 6: the peak memory the runtime's own init charges to the container's memory cgroup
// (memory.max_usage_in_bytes on cgroup v1, memory.peak on v2): read once the container is
// created (the init alone, waiting to exec the user process) and again after /bin/true exited;
// beside the peak, memory.stat's exact rss + cache of the waiting init (the v1 peak moves in
// 256 KiB batches).
// Each peer runs the same bundle with linux.cgroupsPath pointing at a fresh cgroup.
#include <unistd.h>

#include <filesystem>
#include <map>

#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"

namespace corral::bench {

void run_footprint(const nlohmann::json& def, const PeerList& all, Results& results) {
  const int reps = def.value("repetitions", 5);
  PeerList peers;
  for (Peer* p : all) {
    if (p->supports_footprint())
      peers.push_back(p);
    else
      results.skip({"footprint", p->name(), "no init of its own to measure"});
  }
  const std::string parent = "/corral-bench-" + std::to_string(::getpid());
  std::map<Peer*, std::vector<double>> init_kib, init_now_kib, total_kib;
  std::map<Peer*, std::string> errors;
  Progress progress("footprint", reps * static_cast<int>(peers.size()));
  for (int rep = 0; rep < reps; ++rep) {
    for (Peer* peer : rotated(peers, rep)) {
      std::string id =
          "fp-" + peer->name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(rep);
      std::string error;
      auto sample = peer->footprint(id, parent + "/" + id, error);
      progress.step(peer->name());
      if (!sample) {
        errors[peer] = error;
        continue;
      }
      init_kib[peer].push_back(sample->after_create_bytes / 1024);
      init_now_kib[peer].push_back(sample->init_now_bytes / 1024);
      total_kib[peer].push_back(sample->after_exit_bytes / 1024);
    }
  }
  // The runtimes remove their own cgroups; the shared parent is ours to remove.
  for (const auto& controller : std::filesystem::directory_iterator("/sys/fs/cgroup")) {
    std::error_code ignored;
    std::filesystem::remove(controller.path() / parent.substr(1), ignored);
  }
  for (Peer* peer : peers) {
    if (init_kib[peer].empty()) {
      results.skip({"footprint", peer->name(), errors[peer]});
      continue;
    }
    Row row{"footprint", peer->name(), 0, {}, errors[peer]};
    row.metrics["runs"] = init_kib[peer].size();
    row.metrics["init_peak_kib"] = median(init_kib[peer]);
    row.metrics["init_stat_kib"] = median(init_now_kib[peer]);
    row.metrics["with_true_peak_kib"] = median(total_kib[peer]);
    results.add(std::move(row));
  }
}

}  // namespace corral::bench
