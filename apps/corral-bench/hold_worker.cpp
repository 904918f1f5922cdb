// The process that holds N containers (or children) for one in-process model, so that the
// harness can measure it from outside as it would measure a supervisor.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/corral-bench/concurrently.hpp"
#include "apps/corral-bench/hold_models.hpp"
#include "apps/corral-bench/measure.hpp"
#include "bench/namespaced_children.hpp"
#include "bench/wait_models.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "runtime/factory.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::bench {

namespace {

using reactor::Task;

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// `namespaced_rootfs` empty: plain children blocked on a pipe; else namespaced ones (the
// kernel's share of a container's exit, namespaced_children.hpp), which only SIGKILL ends.
int wait_model_worker(WaitModel model, int n, const std::string& namespaced_rootfs = {}) {
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) < 0) return 1;
  std::vector<pid_t> pids;
  std::string error;
  // Setup is starting every child and then the waiter's own preparation, as for the other
  // models (for namespaced children, the kernel's cost of making their namespaces and mounts).
  const auto t0 = Clock::now();
  if (namespaced_rootfs.empty())
    pids = start_blocked_children(n, gate[0]);
  else
    pids = start_namespaced_children(n, namespaced_rootfs, error);
  ::close(gate[0]);
  const double start_s = seconds_since(t0);
  WaitHooks hooks;
  hooks.ready = [] { say("ready"); };
  hooks.control_fd = 0;
  hooks.release = [&] {
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  };
  WaitOutcome outcome = wait_all(model, pids, hooks);
  ::close(gate[1]);
  say(nlohmann::json{{"held", pids.size()},
                     {"setup_s", start_s + outcome.setup_s},
                     {"seen", outcome.seen},
                     {"exit_after_s", outcome.exit_after_s},
                     {"error", error}}
          .dump());
  return 0;
}

int library_worker(int n, int concurrency, const std::string& bundle, const std::string& root,
                   const std::string& init) {
  FactoryOptions options;
  options.init_path = init;
  auto factory = Factory::create(root, options);
  auto config = load_config(bundle);
  if (!factory || !config) {
    std::fprintf(stderr, "hold worker: %s\n",
                 (!factory ? factory.error() : config.error()).what().c_str());
    return 1;
  }
  reactor::Reactor reactor;
  std::vector<std::unique_ptr<Container>> containers(n);
  std::string first_error;
  int held = 0;
  auto t0 = Clock::now();
  reactor.block_on(for_each_concurrently(n, concurrency, [&](int i) -> Task<void> {
    auto c = factory->create_container(
        "hold-" + std::to_string(::getpid()) + "-" + std::to_string(i), *config);
    if (!c) {
      if (first_error.empty()) first_error = c.error().what();
      co_return;
    }
    auto ran = co_await (*c)->run();
    if (!ran) {
      if (first_error.empty()) first_error = ran.error().what();
      co_await (*c)->destroy();
      co_return;
    }
    containers[i] = std::move(*c);
    ++held;
  }));
  double setup_s = seconds_since(t0);
  std::vector<double> exit_after_s;
  reactor.block_on([&]() -> Task<void> {
    Clock::time_point released{};
    reactor::TaskScope waits;
    for (auto& c : containers) {
      if (!c) continue;
      // A wait observes the exit and records it in state.json before it returns.
      waits.spawn(
          [](Container& c, std::vector<double>& out, const Clock::time_point& at) -> Task<void> {
            auto exit = co_await c.wait();
            if (exit) out.push_back(seconds_since(at));
          }(*c, exit_after_s, released));
    }
    co_await reactor::nop();
    say("ready");
    char byte;
    co_await reactor::read(0, &byte, 1);
    released = Clock::now();
    for (auto& c : containers)
      if (c) (void)c->signal(SIGKILL);
    co_await waits.join();
  }());
  say(nlohmann::json{{"held", held},
                     {"setup_s", setup_s},
                     {"seen", exit_after_s.size()},
                     {"exit_after_s", exit_after_s},
                     {"error", first_error}}
          .dump());
  reactor.block_on(for_each_concurrently(n, concurrency, [&](int i) -> Task<void> {
    if (containers[i]) co_await containers[i]->destroy();
  }));
  return 0;
}

}  // namespace

int hold_worker_main(const std::vector<std::string>& args) {
  if (args.size() < 2) return 2;
  const std::string& model = args[0];
  int n = std::stoi(args[1]);
  if (model == "reactor") return wait_model_worker(WaitModel::Reactor, n);
  if (model == "reactor-ns" && args.size() >= 4) {
    auto config = load_config(args[3]);
    if (!config) {
      std::fprintf(stderr, "hold worker: %s\n", config.error().what().c_str());
      return 1;
    }
    return wait_model_worker(WaitModel::Reactor, n, config->root.path);
  }
  if (model == "asio") return wait_model_worker(WaitModel::Asio, n);
  if (model == "threads") return wait_model_worker(WaitModel::Threads, n);
  if (model == "corral-lib" && args.size() >= 6)
    return library_worker(n, std::stoi(args[2]), args[3], args[4], args[5]);
  std::fprintf(stderr, "hold worker: unknown model or arguments: %s\n", model.c_str());
  return 2;
}

}  // namespace corral::bench
