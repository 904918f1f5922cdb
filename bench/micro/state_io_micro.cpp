// state.json write throughput: the reactor's atomic save (sequential, and 64 at once) against
// the same write-fsync-rename-fsync(dir) sequence done with blocking POSIX calls, as a runtime
// without a reactor does it. Run: build/bench/corral-microbench --benchmark_filter=State
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "state_writers.hpp"

namespace {

using namespace corral;
using bench::blocking_posix_save;
using Fixture = bench::StateFiles;

void BM_StateSaveBlockingPosix(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (auto& s : f.states) blocking_posix_save(f.root + "/" + s.id, s.to_json().dump());
  }
  state.SetItemsProcessed(state.iterations() * f.states.size());
}
BENCHMARK(BM_StateSaveBlockingPosix)
    ->Arg(1)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_StateSaveReactor(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const int concurrency = static_cast<int>(state.range(1));
  for (auto _ : state) bench::reactor_save_all(f, concurrency);
  state.SetItemsProcessed(state.iterations() * f.states.size());
  state.SetLabel("concurrency " + std::to_string(concurrency));
}
BENCHMARK(BM_StateSaveReactor)
    ->Args({1, 1})
    ->Args({1000, 1})
    ->Args({1000, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
