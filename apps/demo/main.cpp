// corral-demo: the reactor's promise in one screen. Starts N child processes (1,000 by default),
// keeps them all alive at once, then waits on every one of them from this single thread and
// reports what it saw: exit statuses, timings, and the descriptors it needed.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "reactor/child_process.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"

using namespace corral::reactor;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t open_descriptors() {
  return static_cast<std::size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {}));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A small static shell if the host has one (faster to exec), else the system's.
std::string pick_shell() {
  for (const char* candidate : {"/bin/busybox", "/usr/bin/busybox"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return "/bin/sh";
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (count <= 0) {
    std::fprintf(stderr, "usage: corral-demo [CHILDREN]\n");
    return 2;
  }
  Reactor reactor;
  std::printf("reactor: %s\n", reactor.features().description.c_str());
  if (!reactor.fallback_reason().empty()) {
    std::printf("(io_uring unavailable: %s)\n", reactor.fallback_reason().c_str());
  }
  const bool pidfds =
      !reactor.features().native_waitid || reactor.backend_kind() == BackendKind::Epoll;
  const std::string shell = pick_shell();
  const bool busybox = shell.find("busybox") != std::string::npos;

  // Each child blocks on a shared pipe until all are started, so all are alive at once.
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) < 0) {
    std::perror("pipe2");
    return 1;
  }
  std::map<int, int> statuses;  // shell-style status -> how many
  int failures = 0;
  std::size_t fds_while_waiting = 0;
  double spawn_seconds = 0;
  Clock::time_point released;

  auto start = Clock::now();
  reactor.block_on([&]() -> Task<void> {
    TaskScope scope;
    for (int i = 0; i < count; ++i) {
      std::string script = "read x; exit " + std::to_string(i % 5);
      std::vector<std::string> args = {shell};
      if (busybox) args.push_back("sh");
      args.insert(args.end(), {"-c", script});
      auto child = ChildProcess::spawn({.argv = args, .stdin_fd = gate[0], .keep_pidfd = pidfds});
      if (!child) {
        std::fprintf(stderr, "spawn %d: %s\n", i, child.error().message().c_str());
        ++failures;
        break;
      }
      scope.spawn([](ChildProcess c, std::map<int, int>& seen, int& failed) -> Task<void> {
        auto exit = co_await c.wait();
        if (exit) {
          ++seen[exit->shell_status()];
        } else {
          ++failed;
        }
      }(std::move(*child), statuses, failures));
    }
    spawn_seconds = seconds_since(start);
    fds_while_waiting = open_descriptors();
    released = Clock::now();
    ::close(gate[1]);
    co_await scope.join();
  }());
  ::close(gate[0]);

  int seen = 0;
  for (auto& [status, n] : statuses) seen += n;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("started %d children in %.3f s, all alive at once\n", count, spawn_seconds);
  std::printf("waited on all of them from one thread: %d exits seen in %.3f s after release\n",
              seen, seconds_since(released));
  std::printf("exit statuses:");
  for (auto& [status, n] : statuses) std::printf("  %d x%d", status, n);
  std::printf("\ndescriptors open while waiting: %zu (%s)\n", fds_while_waiting,
              pidfds ? "one pidfd per child" : "IORING_OP_WAITID: none per child");
  std::printf("peak RSS of this process: %ld KiB\n", usage.ru_maxrss);
  return failures == 0 && seen == count ? 0 : 1;
}
