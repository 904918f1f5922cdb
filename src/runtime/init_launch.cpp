#include "runtime/init_launch.hpp"

#include <fcntl.h>
#include <grp.h>
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
#include "reactor/vfork_clone.hpp"
#include "runtime/quiet_pipe_write.hpp"
#include "runtime/thread_namespaces.hpp"

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

// What the child reports on its exec-report pipe: why it cannot exec (it then exits), or, for
// an intermediate child, the pid of the child it made (`err` holds the pid then).
enum class ChildStage : int { JoinNamespace, WaitForMaps, BecomeRoot, Clone, Exec, Cloned };

struct ChildReport {
  ChildStage stage;
  int err;
};

// Everything the child needs, prepared by the parent: between the clone and execve the child
// makes only async-signal-safe system calls.
struct ChildPlan {
  const int* ns_fds;  // joined in order (a user namespace first)
  std::size_t ns_count;
  int maps_fd;       // >= 0: wait for one byte here (the parent wrote the id maps) before exec
  bool become_root;  // in a new or joined user namespace: become its uid/gid 0
  // Non-zero: this child is an intermediate in a joined user namespace; it makes the real child
  // with these CLONE_NEW* flags (so the joined user namespace owns the new namespaces) as a
  // sibling (CLONE_PARENT), reports its pid and exits.
  std::uint64_t sibling_flags;
  const int* stdio;
  unsigned preserved_fds;  // fds 3 .. 3+preserved_fds-1 stay as inherited
  int pipe_fd;             // -1: no init pipe
  const int* extra_fds;
  std::size_t extra_count;
  int report_fd;
  const char* program;
  int program_fd;  // >= 0: exec this (the protected init) with execveat instead of the path
  char* const* argv;
  char* const* envp;
};

__attribute__((no_sanitize("address"))) [[noreturn]] void child_fail(int report_fd,
                                                                     ChildStage stage, int err) {
  ChildReport report{stage, err};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &report, sizeof report);
  ::_exit(120);
}

// In the child: join namespaces, wait for the id maps, become root of the user namespace, lay
// out the fds (see below), exec.
__attribute__((no_sanitize("address"))) [[noreturn]] void child_main(const ChildPlan& plan) {
  for (std::size_t i = 0; i < plan.ns_count; ++i)
    if (::setns(plan.ns_fds[i], 0) < 0)
      child_fail(plan.report_fd, ChildStage::JoinNamespace, errno);
  if (plan.maps_fd >= 0) {
    char byte = 0;
    ssize_t n;
    do {
      n = ::read(plan.maps_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    // No byte: the parent could not write the maps and is about to kill us.
    if (n != 1) child_fail(plan.report_fd, ChildStage::WaitForMaps, n < 0 ? errno : EPIPE);
  }
  if (plan.become_root) {
    // The host's supplementary groups must not follow us in (EPERM: setgroups is denied in
    // this namespace, and then there are none to drop that the namespace could see).
    if (::setgroups(0, nullptr) < 0 && errno != EPERM)
      child_fail(plan.report_fd, ChildStage::BecomeRoot, errno);
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
      child_fail(plan.report_fd, ChildStage::BecomeRoot, errno);
  }
  if (plan.sibling_flags) {
    clone_args args{};
    args.flags = CLONE_PARENT | plan.sibling_flags;  // exit_signal must be 0 with CLONE_PARENT
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) child_fail(plan.report_fd, ChildStage::Clone, errno);
    if (pid > 0) {
      ChildReport cloned{ChildStage::Cloned, static_cast<int>(pid)};
      [[maybe_unused]] ssize_t n = ::write(plan.report_fd, &cloned, sizeof cloned);
      ::_exit(0);
    }
  }
  reactor::reset_signals_for_exec();
  // Layout: 0-2 stdio, 3..P-1 preserved (left in place), P the init pipe, then the extra fds,
  // then the exec report pipe and the program (both close-on-exec). Every source sits above
  // all of these (the parent moved them there), so no dup2 clobbers another source.
  const int pipe_target = child_pipe_fd(plan.preserved_fds);
  const int report_target = pipe_target + 1 + static_cast<int>(plan.extra_count);
  bool ok = ::dup2(plan.stdio[0], 0) >= 0 && ::dup2(plan.stdio[1], 1) >= 0 &&
            ::dup2(plan.stdio[2], 2) >= 0;
  if (ok && plan.pipe_fd >= 0) ok = ::dup2(plan.pipe_fd, pipe_target) >= 0;
  for (std::size_t i = 0; ok && i < plan.extra_count; ++i)
    ok = ::dup2(plan.extra_fds[i], pipe_target + 1 + static_cast<int>(i)) >= 0;
  // A preserved fd the caller marked close-on-exec is passed all the same: it was asked for.
  for (unsigned i = 0; ok && i < plan.preserved_fds; ++i)
    ok = ::fcntl(3 + static_cast<int>(i), F_SETFD, 0) >= 0;
  if (ok) ok = ::dup3(plan.report_fd, report_target, O_CLOEXEC) >= 0;
  const int program_target = report_target + 1;
  if (ok && plan.program_fd >= 0) ok = ::dup3(plan.program_fd, program_target, O_CLOEXEC) >= 0;
  if (ok) {
    if (plan.pipe_fd < 0) ::close(pipe_target);
    ::syscall(SYS_close_range, plan.program_fd >= 0 ? program_target + 1 : program_target, ~0U, 0);
    if (plan.program_fd >= 0)
      ::syscall(SYS_execveat, program_target, "", plan.argv, plan.envp, AT_EMPTY_PATH);
    else
      ::execve(plan.program, plan.argv, plan.envp);
  }
  child_fail(ok ? report_target : plan.report_fd, ChildStage::Exec, errno);
}

__attribute__((no_sanitize("address"))) int vfork_child_entry(void* plan) {
  child_main(*static_cast<const ChildPlan*>(plan));
}

const char* stage_step(ChildStage stage) {
  switch (stage) {
    case ChildStage::JoinNamespace:
      return "join a namespace";
    case ChildStage::WaitForMaps:
      return "wait for the user namespace's id maps";
    case ChildStage::BecomeRoot:
      return "become root of the user namespace";
    case ChildStage::Clone:
      return "clone3 in the joined user namespace";
    case ChildStage::Cloned:
    case ChildStage::Exec:
      break;
  }
  return "exec";
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

std::optional<NamespaceType> namespace_from_proc_name(std::string_view name) {
  for (NamespaceType type : kAllNamespaceTypes)
    if (name == proc_ns_name(type)) return type;
  return std::nullopt;
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
  const bool new_user_ns = (spawn.clone_flags & CLONE_NEWUSER) != 0;
  FdList owned;
  // Above every target of the child's layout (stdio, preserved, pipe, extras, report, program).
  const int first_safe_fd =
      std::max(kFirstSafeFd,
               child_pipe_fd(spawn.preserved_fds) + static_cast<int>(spawn.extra_fds.size()) + 4);
  int null_fd = owned.add(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_fd < 0) return fail(Error::from_errno(errno, "open", "/dev/null"));
  int stdio[3];
  for (int i = 0; i < 3; ++i) {
    int source = spawn.stdio[i] >= 0 ? spawn.stdio[i] : null_fd;
    stdio[i] = owned.add(::fcntl(source, F_DUPFD_CLOEXEC, first_safe_fd));
    if (stdio[i] < 0) return fail(Error::from_errno(errno, "dup", "stdio of " + spawn.program));
  }
  int pipe_fd = -1;
  if (spawn.pipe_fd >= 0) {
    pipe_fd = owned.add(::fcntl(spawn.pipe_fd, F_DUPFD_CLOEXEC, first_safe_fd));
    if (pipe_fd < 0) return fail(Error::from_errno(errno, "dup", "init pipe"));
  }
  std::vector<int> extra_fds;
  for (int fd : spawn.extra_fds) {
    extra_fds.push_back(owned.add(::fcntl(fd, F_DUPFD_CLOEXEC, first_safe_fd)));
    if (extra_fds.back() < 0) return fail(Error::from_errno(errno, "dup", "fd for the init"));
  }

  // Namespaces joined in the child, a user namespace first (it decides the privileges over the
  // others); with a new user namespace, the launching thread joins them instead.
  std::vector<int> child_ns_fds;
  ThreadNamespaces thread_namespaces;
  struct ThreadJoin {
    int fd;
    int type;
    const std::string* path;
  };
  std::vector<ThreadJoin> thread_joins;
  bool joins_user_ns = false;
  bool joins_time_ns = false;
  for (const auto& path : spawn.join_namespaces) {
    int fd = owned.add(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd < 0) return fail(Error::from_errno(errno, "open namespace", path));
    auto type = namespace_type(fd, path);
    if (!type) return fail(std::move(type).error());
    if (*type == CLONE_NEWTIME) joins_time_ns = true;
    if (*type == CLONE_NEWUSER) {
      if (new_user_ns)
        return fail(Error(ErrorCode::ConfigInvalid,
                          "join user namespace " + path + " and create one: choose one"));
      joins_user_ns = true;
      child_ns_fds.insert(child_ns_fds.begin(), fd);
    } else if (new_user_ns) {
      thread_joins.push_back({fd, *type, &path});
    } else {
      child_ns_fds.push_back(fd);
    }
  }
  int pid_ns_fd = -1;
  if (!spawn.pid_namespace_path.empty()) {
    pid_ns_fd = owned.add(::open(spawn.pid_namespace_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (pid_ns_fd < 0)
      return fail(Error::from_errno(errno, "open namespace", spawn.pid_namespace_path));
  }
  int program_fd = -1;
  if (spawn.program_fd >= 0) {
    program_fd = owned.add(::fcntl(spawn.program_fd, F_DUPFD_CLOEXEC, first_safe_fd));
    if (program_fd < 0) return fail(Error::from_errno(errno, "dup", "the init " + spawn.program));
  }
  int maps_read = -1, maps_write = -1;
  if (new_user_ns) {
    if (spawn.uid_mappings.empty() || spawn.gid_mappings.empty())
      return fail(
          Error(ErrorCode::ConfigInvalid, "a new user namespace needs both uid and gid mappings"));
    int maps[2];
    if (::pipe2(maps, O_CLOEXEC) < 0)
      return fail(Error::from_errno(errno, "pipe", "user namespace maps"));
    maps_read = owned.add(::fcntl(maps[0], F_DUPFD_CLOEXEC, first_safe_fd));
    maps_write = owned.add(maps[1]);
    ::close(maps[0]);
    if (maps_read < 0) return fail(Error::from_errno(errno, "dup", "user namespace maps"));
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
  ChildPlan plan{child_ns_fds.data(),
                 child_ns_fds.size(),
                 maps_read,
                 new_user_ns || joins_user_ns,
                 joins_user_ns ? spawn.clone_flags : 0,
                 stdio,
                 spawn.preserved_fds,
                 pipe_fd,
                 extra_fds.data(),
                 extra_fds.size(),
                 report_write,
                 spawn.program.c_str(),
                 program_fd,
                 argv.data(),
                 envp.data()};
  for (const auto& join : thread_joins)
    if (auto entered = thread_namespaces.enter(join.fd, join.type, *join.path); !entered)
      return fail(std::move(entered).error());
  int pidfd = -1;
  // Most often the child needs nothing from us before it execs, so it runs in our memory while
  // we wait (no page tables copied: a supervisor holding thousands of containers would
  // otherwise copy its whole heap's for every start, and take copy-on-write faults after). It
  // is forked instead when it must wait for us (the id maps of a new user namespace), clones
  // again (an intermediate in a joined user namespace), joins what only a single-threaded
  // process may join (a time namespace: EUSERS while it shares our memory), or is born in an
  // existing pid namespace, where the processes of a container could look at it, and so at our
  // live memory, until it execs.
  const bool in_our_memory = !new_user_ns && !joins_user_ns && !joins_time_ns && pid_ns_fd < 0 &&
                             (spawn.clone_flags & CLONE_NEWTIME) == 0;
  auto cloned = with_pid_namespace_for_children(pid_ns_fd, [&]() -> long {
    if (in_our_memory) {
      int pid =
          reactor::vfork_clone(&vfork_child_entry, &plan, CLONE_PIDFD | spawn.clone_flags, &pidfd);
      return pid < 0 ? -errno : pid;
    }
    clone_args args{};
    args.flags = CLONE_PIDFD | (joins_user_ns ? 0 : spawn.clone_flags);
    args.pidfd = reinterpret_cast<__u64>(&pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) child_main(plan);
    return pid < 0 ? -errno : pid;
  });
  thread_namespaces.leave();
  if (!cloned) return fail(std::move(cloned).error());
  if (*cloned < 0)
    return fail(Error::from_errno(static_cast<int>(-*cloned), in_our_memory ? "clone" : "clone3",
                                  spawn.program));
  pid_t pid = static_cast<pid_t>(*cloned);
  auto kill_and_reap = [&] {
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
  };

  if (new_user_ns) {
    auto written = write_id_maps(pid, spawn.uid_mappings, spawn.gid_mappings);
    if (!written) {
      kill_and_reap();
      return fail(std::move(written).error().with_context("start the init in a user namespace"));
    }
    char go = 1;
    if (write_without_sigpipe(maps_write, &go, 1) != 1) {
      int err = errno;
      kill_and_reap();
      return fail(Error::from_errno(err, "start the init: release it after the id maps"));
    }
  }

  // The write end must be ours no longer, or the read below would never see end-of-file.
  for (auto& fd : owned.fds)
    if (fd == report_write) {
      ::close(fd);
      fd = -1;
    }
  ChildReport child_report{};
  ssize_t n;
  auto read_report = [&] {
    do {
      n = ::read(report[0], &child_report, sizeof child_report);
    } while (n < 0 && errno == EINTR);
  };
  read_report();
  if (n == static_cast<ssize_t>(sizeof child_report) && child_report.stage == ChildStage::Cloned) {
    // The intermediate made the real child, our child too (CLONE_PARENT): reap the one, keep the
    // other (its pid cannot be reused while it is our unreaped child, so pidfd_open is safe).
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
    pid = static_cast<pid_t>(child_report.err);
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      int err = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return fail(Error::from_errno(err, "start the init: pidfd_open", spawn.program));
    }
    read_report();
  }
  if (n == static_cast<ssize_t>(sizeof child_report)) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
    return fail(Error::from_errno(child_report.err,
                                  std::string("start the init: ") + stage_step(child_report.stage),
                                  spawn.program));
  }
  return SpawnedProcess{pid, pidfd};
}

}  // namespace corral
