// Scenario 5: atomic state.json writes per second (temp file, write, fsync, rename, fsync of the
// directory), the reactor's StateStore against blocking POSIX calls, for 1 file (rewritten
// again and again) and for many files (each written once). bench/state_writers.hpp holds both
// writers, shared with corral-microbench.
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"
#include "bench/state_writers.hpp"

namespace corral::bench {

namespace {

struct Writer {
  std::string name;
  int concurrency;  // 0: blocking POSIX calls
};

}  // namespace

void run_state_io(const nlohmann::json& def, Results& results) {
  const std::vector<int> sizes = def.value("files", std::vector<int>{1, 10000});
  const int single_writes = def.value("single_file_writes", 1000);
  const int concurrency = def.value("concurrency", 64);
  const std::vector<Writer> writers = {
      {"corral-reactor-1", 1},
      {"corral-reactor-" + std::to_string(concurrency), concurrency},
      {"blocking-posix", 0}};
  Progress progress("state_io", static_cast<int>(sizes.size() * writers.size()));
  int rep = 0;
  for (int files : sizes) {
    StateFiles state(files);
    // One file: the same state rewritten; many: each written once.
    const int rounds = files == 1 ? single_writes : 1;
    for (const Writer& w : rotated(writers, rep++)) {
      if (files == 1 && w.concurrency > 1) {  // one file cannot take concurrent writers
        progress.step();
        continue;
      }
      double cpu0 = cpu_self_and_children_s();
      auto t0 = Clock::now();
      for (int r = 0; r < rounds; ++r) {
        if (w.concurrency == 0) {
          for (const auto& s : state.states)
            blocking_posix_save(state.root + "/" + s.id, s.to_json().dump());
        } else {
          reactor_save_all(state, w.concurrency);
        }
      }
      double wall = seconds_since(t0);
      double cpu = cpu_self_and_children_s() - cpu0;
      const double writes = static_cast<double>(rounds) * files;
      Row row{"state_io", w.name, files, {}, {}};
      row.metrics["writes"] = writes;
      row.metrics["writes_per_s"] = writes / wall;
      row.metrics["caller_cpu_us_per_write"] = cpu * 1e6 / writes;
      results.add(std::move(row));
      progress.step(w.name);
    }
  }
}

}  // namespace corral::bench
