#include "wait_models.hpp"

#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"

extern char** environ;

namespace corral::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Blocks until one byte (or end of file) can be read from `fd`.
void wait_readable_blocking(int fd) {
  char byte;
  while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
}

void record(WaitOutcome& out, int code, int status, Clock::time_point released) {
  ++out.seen;
  if (code == CLD_EXITED && status == 7) ++out.with_status_7;
  out.exit_after_s.push_back(seconds_since(released));
}

WaitOutcome wait_reactor(const std::vector<pid_t>& pids, const WaitHooks& hooks) {
  using namespace corral::reactor;
  Reactor reactor;
  WaitOutcome out;
  Clock::time_point released{};
  auto t0 = Clock::now();
  reactor.block_on([&]() -> Task<void> {
    TaskScope scope;
    for (pid_t pid : pids) {
      scope.spawn([](pid_t p, WaitOutcome& o, const Clock::time_point& at) -> Task<void> {
        auto exit = co_await waitid(P_PID, static_cast<id_t>(p));
        if (exit) record(o, exit->code, exit->status, at);
      }(pid, out, released));
    }
    co_await nop();  // every WAITID is submitted by now
    out.setup_s = seconds_since(t0);
    if (hooks.ready) hooks.ready();
    if (hooks.control_fd >= 0) {
      char byte;
      co_await read(hooks.control_fd, &byte, 1);
    }
    released = Clock::now();
    hooks.release();
    co_await scope.join();
  }());
  return out;
}

WaitOutcome wait_asio(const std::vector<pid_t>& pids, const WaitHooks& hooks) {
  asio::io_context io(1);
  WaitOutcome out;
  Clock::time_point released{};
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> fds;
  fds.reserve(pids.size());
  auto t0 = Clock::now();
  for (pid_t pid : pids) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
      std::perror("pidfd_open");
      std::exit(1);
    }
    auto& d = fds.emplace_back(std::make_unique<asio::posix::stream_descriptor>(io, fd));
    d->async_wait(asio::posix::stream_descriptor::wait_read,
                  [&out, &released, fd](std::error_code ec) {
                    siginfo_t info{};
                    if (!ec && ::waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED) == 0)
                      record(out, info.si_code, info.si_status, released);
                  });
  }
  out.setup_s = seconds_since(t0);
  if (hooks.ready) hooks.ready();
  // The control descriptor is one more registration in the same loop.
  std::unique_ptr<asio::posix::stream_descriptor> control;
  auto do_release = [&] {
    released = Clock::now();
    hooks.release();
  };
  if (hooks.control_fd >= 0) {
    control = std::make_unique<asio::posix::stream_descriptor>(io, ::dup(hooks.control_fd));
    control->async_wait(asio::posix::stream_descriptor::wait_read,
                        [&](std::error_code) { do_release(); });
  } else {
    do_release();
  }
  io.run();
  return out;
}

WaitOutcome wait_threads(const std::vector<pid_t>& pids, const WaitHooks& hooks) {
  WaitOutcome out;
  struct Slot {
    int code = 0, status = 0;
    Clock::time_point at{};
    bool seen = false;
  };
  std::vector<Slot> slots(pids.size());
  std::vector<std::thread> threads;
  threads.reserve(pids.size());
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < pids.size(); ++i) {
    threads.emplace_back([pid = pids[i], &slot = slots[i]] {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) == 0) {
        slot.at = Clock::now();
        slot.code = info.si_code;
        slot.status = info.si_status;
        slot.seen = true;
      }
    });
  }
  out.setup_s = seconds_since(t0);
  if (hooks.ready) hooks.ready();
  if (hooks.control_fd >= 0) wait_readable_blocking(hooks.control_fd);
  auto released = Clock::now();
  hooks.release();
  for (auto& t : threads) t.join();
  for (const Slot& s : slots) {
    if (!s.seen) continue;
    ++out.seen;
    if (s.code == CLD_EXITED && s.status == 7) ++out.with_status_7;
    out.exit_after_s.push_back(std::chrono::duration<double>(s.at - released).count());
  }
  return out;
}

}  // namespace

const char* wait_model_name(WaitModel model) {
  switch (model) {
    case WaitModel::Reactor:
      return "reactor";
    case WaitModel::Asio:
      return "asio";
    case WaitModel::Threads:
      return "threads";
  }
  return "?";
}

std::vector<pid_t> start_blocked_children(int n, int gate_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, gate_fd, 0);
  const bool busybox = ::access("/bin/busybox", X_OK) == 0;
  const char* shell = busybox ? "/bin/busybox" : "/bin/sh";
  std::vector<pid_t> pids;
  pids.reserve(n);
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    char* argv_busybox[] = {const_cast<char*>(shell), const_cast<char*>("sh"),
                            const_cast<char*>("-c"), const_cast<char*>("read x; exit 7"), nullptr};
    char* argv_sh[] = {const_cast<char*>(shell), const_cast<char*>("-c"),
                       const_cast<char*>("read x; exit 7"), nullptr};
    if (posix_spawn(&pid, shell, &actions, nullptr, busybox ? argv_busybox : argv_sh, environ) !=
        0) {
      std::perror("posix_spawn");
      std::exit(1);
    }
    pids.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&actions);
  return pids;
}

WaitOutcome wait_all(WaitModel model, const std::vector<pid_t>& pids, const WaitHooks& hooks) {
  switch (model) {
    case WaitModel::Reactor:
      return wait_reactor(pids, hooks);
    case WaitModel::Asio:
      return wait_asio(pids, hooks);
    case WaitModel::Threads:
      return wait_threads(pids, hooks);
  }
  return {};
}

}  // namespace corral::bench
