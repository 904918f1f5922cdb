// corral-example-coro: an orchestrator written directly against corral's coroutine API.
// One thread, one corral Reactor, one Supervisor; no Asio, no thread per container.
//
// It runs `sh -c 'exit 3'` and awaits its status, starts a long sleeper, kills it and awaits
// its end, printing every event the supervisor emits. Exit status 0 only if both statuses are
// what they must be (3, and killed by SIGKILL).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "example_bundle.hpp"
#include "example_init.hpp"
#include "libcorral/run_to_exit.hpp"
#include "reactor/reactor.hpp"
#include "runtime/supervisor/supervisor.hpp"

using corral::ExitRecord;
using corral::Expected;
using corral::supervisor::CreateRequest;
using corral::supervisor::Supervisor;

namespace {

bool check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  return ok;
}

std::string describe(const Expected<ExitRecord>& exit) {
  if (!exit) return "error: " + exit.error().what();
  if (!exit->known) return "unknown status";
  return std::string(exit->code == CLD_EXITED ? "exited " : "killed by signal ") +
         std::to_string(exit->status);
}

corral::reactor::Task<bool> orchestrate(Supervisor& sup,
                                        const corral::examples::ExampleBundles& b) {
  const std::string suffix = "-" + std::to_string(::getpid());
  bool ok = true;

  // 1. Run to completion: the answer is the exit status.
  auto bundle = b.bundle("exit3", {"sh", "-c", "exit 3"});
  if (!bundle) co_return check(false, bundle.error().what());
  CreateRequest exit3{.id = "coro-exit3" + suffix, .bundle = *bundle};
  Expected<ExitRecord> status = co_await corral::run_to_exit(sup, exit3);
  ok &= check(status && status->known && status->code == CLD_EXITED && status->status == 3,
              "run " + exit3.id + ": " + describe(status) + " (want exited 3)");

  // 2. Start, kill, wait: run() answers once the process runs, wait() once it has stopped.
  bundle = b.bundle("sleeper", {"sleep", "600"});
  if (!bundle) co_return check(false, bundle.error().what());
  CreateRequest sleeper{.id = "coro-sleeper" + suffix, .bundle = *bundle};
  auto started = co_await sup.run(sleeper);
  ok &= check(started && started->status == "running",
              "start " + sleeper.id + ": " + (started ? started->status : started.error().what()));
  if (started) {
    auto killed = sup.kill(sleeper.id, SIGKILL);
    ok &= check(bool(killed), "kill " + sleeper.id + (killed ? "" : ": " + killed.error().what()));
    Expected<ExitRecord> end = co_await sup.wait(sleeper.id);
    ok &= check(end && end->code == CLD_KILLED && end->status == SIGKILL,
                "wait " + sleeper.id + ": " + describe(end) + " (want killed by signal 9)");
  }

  // 3. Leave nothing behind: cgroups, state and logs go with remove().
  for (const auto& info : sup.list()) {
    auto removed = co_await sup.remove(info.id, true);
    ok &=
        check(bool(removed), "remove " + info.id + (removed ? "" : ": " + removed.error().what()));
  }
  co_await sup.shutdown(false);
  co_return ok;
}

}  // namespace

int main(int argc, char** argv) {
  auto init = corral::examples::find_init(argc, argv);
  if (!init) {
    std::fprintf(stderr, "corral-example-coro: %s\n", init.error().what().c_str());
    return 2;
  }
  auto bundles = corral::examples::ExampleBundles::make();
  if (!bundles) {
    std::fprintf(stderr, "corral-example-coro: %s\n", bundles.error().what().c_str());
    return 1;
  }

  // The reactor belongs to this thread; so does the supervisor opened on it.
  corral::reactor::Reactor reactor;
  corral::supervisor::SupervisorOptions options;
  options.root = bundles->supervisor_root();
  options.factory.init_path = *init;
  auto sup = Supervisor::open(options);
  if (!sup) {
    std::fprintf(stderr, "corral-example-coro: %s\n", sup.error().what().c_str());
    return 1;
  }
  // Subscribers run on the reactor thread, synchronously: print and return, never block.
  (*sup)->subscribe([](const corral::supervisor::Event& event) {
    std::printf("event %s\n", event.to_json().dump().c_str());
  });

  bool ok = reactor.block_on(orchestrate(**sup, *bundles));
  std::printf("%s\n",
              ok ? "corral-example-coro: all statuses as expected" : "corral-example-coro: FAILED");
  return ok ? 0 : 1;
}
