#include "reactor/child_process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "reactor/reactor.hpp"
#include "reactor/signals.hpp"

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

// Runs in the child between clone3 and execve: system calls only, no allocation.
[[noreturn]] void exec_child(const SpawnOptions& options, char* const* argv, char* const* envp,
                             int report_fd) {
  reset_signals_for_exec();
  const int wanted[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (wanted[target] < 0) continue;
    if (wanted[target] == target) {
      ::fcntl(target, F_SETFD, 0);
    } else if (::dup2(wanted[target], target) < 0) {
      break;
    }
  }
  // No descriptor of the parent reaches the program except stdio and the exec report pipe
  // (close-on-exec itself).
  if (report_fd > 3) ::syscall(SYS_close_range, 3, report_fd - 1, 0);
  ::syscall(SYS_close_range, report_fd + 1, ~0U, 0);
  ::execve(argv[0], argv, envp);
  int err = errno;
  [[maybe_unused]] ssize_t n = ::write(report_fd, &err, sizeof err);
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
  // The exec report pipe: closed by a successful exec, or carries the exec's errno.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) return fail(errno_code(errno));

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<__u64>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return fail(errno_code(err));
  }
  if (pid == 0) {
    ::close(report[0]);
    exec_child(options, argv.data(), envp, report[1]);
  }
  ::close(report[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);

  ChildProcess child;
  child.pid_ = static_cast<pid_t>(pid);
  child.pidfd_ = pidfd;
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    child.reaped_ = true;
    return fail(errno_code(exec_errno));
  }
  if (!options.keep_pidfd) {
    ::close(child.pidfd_);
    child.pidfd_ = -1;
  }
  return child;
}

Task<Result<ChildExit>> ChildProcess::wait() {
  if (reaped_) co_return fail(errno_code(ECHILD));
  Reactor& reactor = Reactor::require_current();
  Result<ChildExit> exit = fail(errno_code(ECHILD));
  if (reactor.features().native_waitid) {
    exit = pidfd_ >= 0 ? co_await reactor::waitid(P_PIDFD, static_cast<id_t>(pidfd_))
                       : co_await reactor::waitid(P_PID, static_cast<id_t>(pid_));
  } else {
    // No WAITID on the ring: readiness of the pidfd, then a non-blocking waitid.
    int fd = pidfd_;
    if (fd < 0) fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (fd < 0) co_return fail(errno_code(errno));
    for (;;) {
      auto ready = co_await reactor::poll(fd, POLLIN);
      if (!ready) {
        exit = fail(ready.error());
        break;
      }
      siginfo_t info{};
      if (::waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED | WNOHANG) < 0) {
        exit = fail(errno_code(errno));
        break;
      }
      if (info.si_pid != 0) {
        exit = ChildExit{info.si_pid, info.si_code, info.si_status};
        break;
      }
    }
    if (fd != pidfd_) ::close(fd);
  }
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
