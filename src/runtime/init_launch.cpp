#include "runtime/init_launch.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "reactor/signals.hpp"

namespace corral {

namespace {

// Sources are moved up to here or beyond the child's layout, so that dup2 onto it never clobbers
// a source not yet placed.
constexpr int kFirstSafeFd = 64;

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

struct FdList {
  std::vector<int> fds;
  ~FdList() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
};

// In the child: join namespaces, lay out fds 0-2 (stdio), 3..P-1 (preserved, as inherited),
// P (the init pipe), P+1 (the exec report pipe), P+2 (the console socket, if any), exec.
[[noreturn]] void child_main(const int* ns_fds, std::size_t ns_count, const int stdio[3],
                             unsigned preserved, int pipe_fd, int report_fd, int console_fd,
                             const char* program, char* const* argv, char* const* envp) {
  for (std::size_t i = 0; i < ns_count; ++i) {
    if (::setns(ns_fds[i], 0) < 0) {
      int err = errno;
      [[maybe_unused]] ssize_t n = ::write(report_fd, &err, sizeof err);
      ::_exit(120);
    }
  }
  reactor::reset_signals_for_exec();
  const int pipe_target = child_pipe_fd(preserved);
  const int report_target = pipe_target + 1;
  bool ok = ::dup2(stdio[0], 0) >= 0 && ::dup2(stdio[1], 1) >= 0 && ::dup2(stdio[2], 2) >= 0 &&
            ::dup2(pipe_fd, pipe_target) >= 0 && ::dup3(report_fd, report_target, O_CLOEXEC) >= 0 &&
            (console_fd < 0 || ::dup2(console_fd, report_target + 1) >= 0);
  // A preserved fd the caller marked close-on-exec is passed all the same: it was asked for.
  for (unsigned i = 0; ok && i < preserved; ++i)
    ok = ::fcntl(3 + static_cast<int>(i), F_SETFD, 0) >= 0;
  if (ok) {
    ::syscall(SYS_close_range, report_target + (console_fd < 0 ? 1 : 2), ~0U, 0);
    ::execve(program, argv, envp);
  }
  int err = errno;
  [[maybe_unused]] ssize_t n = ::write(ok ? report_target : report_fd, &err, sizeof err);
  ::_exit(121);
}

}  // namespace

std::uint64_t clone_flag(NamespaceType type) {
  switch (type) {
    case NamespaceType::Pid:
      return CLONE_NEWPID;
    case NamespaceType::Network:
      return CLONE_NEWNET;
    case NamespaceType::Mount:
      return CLONE_NEWNS;
    case NamespaceType::Ipc:
      return CLONE_NEWIPC;
    case NamespaceType::Uts:
      return CLONE_NEWUTS;
    case NamespaceType::User:
      return CLONE_NEWUSER;
    case NamespaceType::Cgroup:
      return CLONE_NEWCGROUP;
    case NamespaceType::Time:
      return CLONE_NEWTIME;
  }
  return 0;
}

const char* proc_ns_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::Pid:
      return "pid";
    case NamespaceType::Network:
      return "net";
    case NamespaceType::Mount:
      return "mnt";
    case NamespaceType::Ipc:
      return "ipc";
    case NamespaceType::Uts:
      return "uts";
    case NamespaceType::User:
      return "user";
    case NamespaceType::Cgroup:
      return "cgroup";
    case NamespaceType::Time:
      return "time";
  }
  return "?";
}

namespace detail {

Expected<int> enter_pid_namespace_for_children(int ns_fd) {
  int own = ::open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own < 0) return fail(Error::from_errno(errno, "open", "/proc/thread-self/ns/pid"));
  if (::setns(ns_fd, CLONE_NEWPID) < 0) {
    int err = errno;
    ::close(own);
    return fail(Error::from_errno(err, "setns", "pid namespace"));
  }
  return own;
}

void leave_pid_namespace_for_children(int restore_fd) {
  // Our own active namespace is always a valid target: this cannot fail short of a kernel bug.
  if (::setns(restore_fd, CLONE_NEWPID) < 0) std::abort();
  ::close(restore_fd);
}

}  // namespace detail

Expected<SpawnedProcess> spawn_init(const InitSpawn& spawn) {
  FdList owned;
  const int first_safe_fd =
      std::max(kFirstSafeFd, child_console_socket_fd(spawn.preserved_fds) + 1);
  int null_fd = owned.add(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_fd < 0) return fail(Error::from_errno(errno, "open", "/dev/null"));
  int stdio[3];
  for (int i = 0; i < 3; ++i) {
    int source = spawn.stdio[i] >= 0 ? spawn.stdio[i] : null_fd;
    stdio[i] = owned.add(::fcntl(source, F_DUPFD_CLOEXEC, first_safe_fd));
    if (stdio[i] < 0) return fail(Error::from_errno(errno, "dup", "stdio of " + spawn.program));
  }
  int pipe_fd = owned.add(::fcntl(spawn.pipe_fd, F_DUPFD_CLOEXEC, first_safe_fd));
  if (pipe_fd < 0) return fail(Error::from_errno(errno, "dup", "init pipe"));
  int console_fd = -1;
  if (spawn.console_socket_fd >= 0) {
    console_fd = owned.add(::fcntl(spawn.console_socket_fd, F_DUPFD_CLOEXEC, first_safe_fd));
    if (console_fd < 0) return fail(Error::from_errno(errno, "dup", "console socket"));
  }
  std::vector<int> ns_fds;
  for (const auto& path : spawn.join_namespaces) {
    int fd = owned.add(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd < 0) return fail(Error::from_errno(errno, "open namespace", path));
    ns_fds.push_back(fd);
  }
  int pid_ns_fd = -1;
  if (!spawn.pid_namespace_path.empty()) {
    pid_ns_fd = owned.add(::open(spawn.pid_namespace_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (pid_ns_fd < 0)
      return fail(Error::from_errno(errno, "open namespace", spawn.pid_namespace_path));
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) return fail(Error::from_errno(errno, "pipe", "exec report"));
  owned.add(report[0]);
  int report_write = ::fcntl(report[1], F_DUPFD_CLOEXEC, first_safe_fd);
  ::close(report[1]);
  if (report_write < 0) return fail(Error::from_errno(errno, "dup", "exec report"));
  owned.add(report_write);

  auto argv = c_strings(spawn.argv);
  auto envp = c_strings(spawn.env);
  int pidfd = -1;
  auto cloned = with_pid_namespace_for_children(pid_ns_fd, [&]() -> long {
    clone_args args{};
    args.flags = CLONE_PIDFD | spawn.clone_flags;
    args.pidfd = reinterpret_cast<__u64>(&pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
      child_main(ns_fds.data(), ns_fds.size(), stdio, spawn.preserved_fds, pipe_fd, report_write,
                 console_fd, spawn.program.c_str(), argv.data(), envp.data());
    return pid < 0 ? -errno : pid;
  });
  if (!cloned) return fail(std::move(cloned).error());
  if (*cloned < 0)
    return fail(Error::from_errno(static_cast<int>(-*cloned), "clone3", spawn.program));
  pid_t pid = static_cast<pid_t>(*cloned);

  ::close(report_write);
  owned.fds.back() = -1;
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
    return fail(Error::from_errno(exec_errno, "start the init: exec", spawn.program));
  }
  return SpawnedProcess{pid, pidfd};
}

}  // namespace corral
