#include "reactor/child_process.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "reactor/reactor.hpp"
#include "reactor/signals.hpp"
#include "reactor/vfork_clone.hpp"

extern char** environ;

namespace corral::reactor {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// What the parent hands to the child. The child runs in the parent's memory (CLONE_VM) while
// the parent is suspended (CLONE_VFORK), so it reports an exec failure by writing exec_errno.
struct ChildStart {
  const SpawnOptions* options;
  char* const* argv;
  char* const* envp;
  int exec_errno;
};

// Runs in the child between clone and execve: system calls only, no allocation, nothing that
// takes a lock (the parent's threads may hold them).
__attribute__((no_sanitize("address"))) int exec_child(void* arg) {
  auto* start = static_cast<ChildStart*>(arg);
  const SpawnOptions& options = *start->options;
  reset_signals_for_exec();
  const int wanted[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (wanted[target] < 0) continue;
    int rc =
        wanted[target] == target ? ::fcntl(target, F_SETFD, 0) : ::dup2(wanted[target], target);
    if (rc < 0) {
      start->exec_errno = errno;
      ::_exit(127);
    }
  }
  // No descriptor of the parent reaches the program except stdio.
  ::syscall(SYS_close_range, 3, ~0U, 0);
  ::execve(start->argv[0], start->argv, start->envp);
  start->exec_errno = errno;
  ::_exit(127);
}

}  // namespace

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      reaped_(std::exchange(other.reaped_, false)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pidfd_ >= 0) ::close(pidfd_);
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::exchange(other.pidfd_, -1);
    reaped_ = std::exchange(other.reaped_, false);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return fail(errno_code(EINVAL));
  std::vector<char*> argv = c_strings(options.argv);
  std::vector<char*> env_storage;
  char* const* envp = environ;
  if (!options.env.empty()) {
    env_storage = c_strings(options.env);
    envp = env_storage.data();
  }
  ChildStart start{&options, argv.data(), envp, 0};
  int pidfd = -1;
  int pid = vfork_clone(&exec_child, &start, CLONE_PIDFD, &pidfd);
  if (pid < 0) return fail(errno_code(errno));

  ChildProcess child;
  child.pid_ = static_cast<pid_t>(pid);
  child.pidfd_ = pidfd;
  if (start.exec_errno != 0) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    child.reaped_ = true;
    return fail(errno_code(start.exec_errno));
  }
  if (!options.keep_pidfd) {
    ::close(child.pidfd_);
    child.pidfd_ = -1;
  }
  return child;
}

Task<Result<ChildExit>> wait_for_child_exit(pid_t pid, int pidfd, int extra_options) {
  const int options = WEXITED | extra_options;
  if (Reactor::require_current().features().native_waitid) {
    co_return pidfd >= 0 ? co_await reactor::waitid(P_PIDFD, static_cast<id_t>(pidfd), options)
                         : co_await reactor::waitid(P_PID, static_cast<id_t>(pid), options);
  }
  // No WAITID on the ring: readiness of the pidfd, then a non-blocking waitid.
  int fd = pidfd;
  if (fd < 0) fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) co_return fail(errno_code(errno));
  Result<ChildExit> exit = fail(errno_code(ECHILD));
  for (;;) {
    auto ready = co_await reactor::poll(fd, POLLIN);
    if (!ready) {
      exit = fail(ready.error());
      break;
    }
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(fd), &info, options | WNOHANG) < 0) {
      exit = fail(errno_code(errno));
      break;
    }
    if (info.si_pid != 0) {
      exit = ChildExit{info.si_pid, info.si_code, info.si_status};
      break;
    }
  }
  if (fd != pidfd) ::close(fd);
  co_return exit;
}

void reap_exited_child(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) < 0 && errno == EINTR) {
  }
}

Task<Result<ChildExit>> ChildProcess::wait() {
  if (reaped_) co_return fail(errno_code(ECHILD));
  auto exit = co_await wait_for_child_exit(pid_, pidfd_);
  if (exit) reaped_ = true;
  co_return exit;
}

Result<void> ChildProcess::send_signal(int signal) {
  if (reaped_) return fail(errno_code(ESRCH));
  long rc = pidfd_ >= 0 ? ::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0)
                        : ::kill(pid_, signal);
  if (rc < 0) return fail(errno_code(errno));
  return {};
}

}  // namespace corral::reactor
