// state.json write throughput: the reactor's atomic save (sequential, and 64 at once) against
// the same write-fsync-rename-fsync(dir) sequence done with blocking POSIX calls, as a runtime
// without a reactor does it. Run: build/bench/corral-microbench --benchmark_filter=State
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "runtime/state_store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace corral;

struct Fixture {
  std::string root;
  std::vector<ContainerState> states;
  explicit Fixture(int containers) {
    char tmpl[] = "/var/tmp/corral-bench-state-XXXXXX";  // a real disk, not tmpfs
    root = ::mkdtemp(tmpl);
    for (int i = 0; i < containers; ++i) {
      ContainerState s;
      s.id = "c" + std::to_string(i);
      s.status = ContainerStatus::Running;
      s.init_pid = 1000 + i;
      s.config = {{"ociVersion", "1.0.2"}, {"pad", std::string(1500, 'x')}};  // ~2 KiB files
      fs::create_directories(root + "/" + s.id);
      states.push_back(std::move(s));
    }
  }
  ~Fixture() { fs::remove_all(root); }
};

void blocking_posix_save(const std::string& dir, const std::string& text) {
  std::string tmp = dir + "/.state.json.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) < 0 || ::close(fd) < 0 ||
      ::rename(tmp.c_str(), (dir + "/state.json").c_str()) < 0) {
    std::abort();
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ::fsync(dfd);
  ::close(dfd);
}

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
  StateStore store(f.root);
  reactor::Reactor r;
  for (auto _ : state) {
    r.block_on([&]() -> reactor::Task<void> {
      for (std::size_t i = 0; i < f.states.size(); i += concurrency) {
        reactor::TaskScope scope;
        for (std::size_t j = i; j < std::min(f.states.size(), i + concurrency); ++j) {
          scope.spawn([](const StateStore& st, const ContainerState& s) -> reactor::Task<void> {
            auto ok = co_await st.save_async(s);
            if (!ok) std::abort();
          }(store, f.states[j]));
        }
        co_await scope.join();
      }
    }());
  }
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
