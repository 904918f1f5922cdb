// Scenario 2: N /bin/true containers created and started (run detached) at concurrency C:
// containers per second and CPU per container (this process plus its reaped children: the
// runtime processes, and for the library the work done in this very process; for corrald the
// daemon's CPU and that of the containers it reaped). External
// runtimes stop at external_cap. The containers are deleted afterwards, untimed.
#include <unistd.h>

#include <map>

#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"

namespace corral::bench {

void run_storm(const nlohmann::json& def, const PeerList& all, Results& results) {
  const std::vector<int> sizes = def.value("sizes", std::vector<int>{100, 1000});
  const int concurrency = def.value("concurrency", 8);
  const int cap = def.value("external_cap", 1000);
  const int reps = def.value("repetitions", 1);
  PeerList peers;
  for (Peer* p : all) {
    if (p->supports_storm())
      peers.push_back(p);
    else
      results.skip({"storm", p->name(), "not a runtime: only the lifecycle floor"});
  }
  int steps = 0;
  for (int n : sizes)
    for (Peer* p : peers)
      if (!p->external() || n <= cap) steps += reps;
  Progress progress("storm", steps);
  for (int n : sizes) {
    std::map<Peer*, std::vector<double>> rate, cpu_per, wall;
    std::map<Peer*, std::string> errors;
    for (int rep = 0; rep < reps; ++rep) {
      for (Peer* peer : rotated(peers, rep)) {
        if (peer->external() && n > cap) continue;
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i)
          ids.push_back("st-" + peer->name() + "-" + std::to_string(::getpid()) + "-" +
                        std::to_string(rep) + "-" + std::to_string(i));
        std::string error;
        double cpu0 = cpu_self_and_children_s() + peer->unreaped_cpu_s();
        auto t0 = Clock::now();
        int started = peer->start_detached(ids, concurrency, error);
        double w = seconds_since(t0);
        double c = cpu_self_and_children_s() + peer->unreaped_cpu_s() - cpu0;
        peer->remove(ids, concurrency);
        progress.step(peer->name() + " N=" + std::to_string(n));
        if (started < n) {
          errors[peer] =
              std::to_string(n - started) + " of " + std::to_string(n) + " failed: " + error;
          continue;
        }
        rate[peer].push_back(n / w);
        cpu_per[peer].push_back(c * 1e3 / n);
        wall[peer].push_back(w);
      }
    }
    for (Peer* peer : peers) {
      if (peer->external() && n > cap) continue;
      if (rate[peer].empty()) {
        results.skip({"storm", peer->name() + " N=" + std::to_string(n), errors[peer]});
        continue;
      }
      Row row{"storm", peer->name(), n, {}, errors[peer]};
      row.metrics["concurrency"] = concurrency;
      row.metrics["containers_per_s"] = median(rate[peer]);
      row.metrics["cpu_ms_per_ctr"] = median(cpu_per[peer]);
      row.metrics["wall_s"] = median(wall[peer]);
      results.add(std::move(row));
    }
  }
}

}  // namespace corral::bench
