// Reactor micro-benchmarks: operation round trip and exit-notification latency, on both
// backends. Run: build/bench/corral-microbench --benchmark_filter=Reactor
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "reactor/child_process.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace {

using namespace corral::reactor;

BackendKind backend_of(const benchmark::State& state) {
  return state.range(0) == 0 ? BackendKind::IoUring : BackendKind::Epoll;
}

void label(benchmark::State& state) {
  state.SetLabel(state.range(0) == 0 ? "io_uring" : "epoll");
}

// One nop through the kernel and back, awaited from a coroutine.
void BM_ReactorNopRoundTrip(benchmark::State& state) {
  Reactor reactor(ReactorOptions{.backend = backend_of(state)});
  for (auto _ : state) {
    reactor.block_on([]() -> Task<void> {
      for (int i = 0; i < 1000; ++i) (void)co_await nop();
    }());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  label(state);
}
BENCHMARK(BM_ReactorNopRoundTrip)->Arg(0)->Arg(1);

// From the moment a blocked child is released (its stdin pipe closed) until its exit has been
// observed and reaped by the waiter. Includes the child's own wake-up and exit.
void BM_ReactorExitNotification(benchmark::State& state) {
  Reactor reactor(ReactorOptions{.backend = backend_of(state)});
  const char* shell = ::access("/bin/busybox", X_OK) == 0 ? "/bin/busybox" : nullptr;
  if (shell == nullptr) {
    state.SkipWithError("needs /bin/busybox (busybox-static)");
    return;
  }
  for (auto _ : state) {
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) < 0) std::abort();
    auto child = ChildProcess::spawn({.argv = {shell, "sh", "-c", "read x"},
                                      .stdin_fd = gate[0],
                                      .keep_pidfd = backend_of(state) == BackendKind::Epoll});
    ::close(gate[0]);
    std::chrono::steady_clock::time_point released;
    double seconds = 0;
    reactor.block_on([&]() -> Task<void> {
      auto waiting = child->wait();
      released = std::chrono::steady_clock::now();
      ::close(gate[1]);
      (void)co_await std::move(waiting);
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - released).count();
    }());
    state.SetIterationTime(seconds);
  }
  label(state);
}
BENCHMARK(BM_ReactorExitNotification)->Arg(0)->Arg(1)->UseManualTime()->Iterations(200);

}  // namespace
