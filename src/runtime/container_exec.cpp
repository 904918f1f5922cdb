// Container::exec: a further process in a running container.
//
// corral-init is dynamically linked, so it cannot be exec'd once the child has joined the
// container's mount namespace (its ELF loader is not in the container's rootfs). The child
// therefore does the setns init's work itself, before execve, with system calls only: it joins
// the init's namespaces through its pidfd (setns(pidfd, flags), one atomic call), waits until
// the parent has put it in the container's cgroup, sets its groups, gid, uid and cwd, and execs
// with a PATH search prepared by the parent. Capabilities, rlimits, seccomp and no_new_privs of
// the exec'd process are not applied on this path (see the report).
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/signals.hpp"
#include "runtime/container.hpp"
#include "runtime/init_launch.hpp"

namespace corral {

namespace {

constexpr int kFirstSafeFd = 64;

struct Report {
  int stage = 0;  // 0: setup (setns, ids, cwd) failed; 1: execve failed
  int err = 0;
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Every file execve should try, in order, as a shell's PATH search would.
std::vector<std::string> exec_candidates(const std::string& args0,
                                         const std::vector<std::string>& env) {
  if (args0.find('/') != std::string::npos) return {args0};
  std::string path_var;
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (!path_var.empty() && pos <= path_var.size()) {
    std::size_t end = path_var.find(':', pos);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(pos, end - pos);
    out.push_back((dir.empty() ? "." : dir) + "/" + args0);
    pos = end + 1;
  }
  return out;
}

void write_str(int fd, const char* text) {
  [[maybe_unused]] ssize_t n = ::write(fd, text, std::strlen(text));
}

[[noreturn]] void report_and_exit(int report_fd, int stage, int err, int code) {
  Report r{stage, err};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &r, sizeof r);
  ::_exit(code);
}

}  // namespace

ExecProcess::ExecProcess(pid_t pid, int pidfd, std::optional<ExecFailure> failure)
    : pid_(pid), pidfd_(pidfd), failure_(std::move(failure)) {}

ExecProcess::~ExecProcess() {
  if (pidfd_ >= 0) {
    if (!reaped_) {  // nobody waited: do not leave a zombie behind
      ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
      siginfo_t info{};
      ::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED);
    }
    ::close(pidfd_);
  }
}

Expected<void> ExecProcess::signal(int sig) {
  if (reaped_)
    return fail(Error(ErrorCode::ContainerNotRunning,
                      "exec process " + std::to_string(pid_) + " has exited"));
  if (::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) < 0)
    return fail(Error::from_errno(errno, "signal exec process", std::to_string(pid_)));
  return {};
}

reactor::Task<Expected<ExitRecord>> ExecProcess::wait() {
  if (exit_) co_return *exit_;
  for (;;) {
    auto ready = co_await reactor::poll(pidfd_, POLLIN);
    if (!ready)
      co_return fail(
          Error::from_errno(ready.error().value(), "wait for exec process", std::to_string(pid_)));
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG) < 0)
      co_return fail(Error::from_errno(errno, "wait for exec process", std::to_string(pid_)));
    if (info.si_pid == 0) continue;
    reaped_ = true;
    ExitRecord exit;
    exit.code = info.si_code;
    exit.status = info.si_status;
    exit.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    exit_ = exit;
    co_return exit;
  }
}

reactor::Task<Expected<std::unique_ptr<ExecProcess>>> Container::exec(Process process,
                                                                      ProcessIo io) {
  const std::string context = "exec in container " + state_.id;
  if (state_.status != ContainerStatus::Running && state_.status != ContainerStatus::Created)
    co_return fail(Error(ErrorCode::ContainerNotRunning, context + ": it is not running"));
  if (auto alive = require_alive("exec in"); !alive) co_return fail(std::move(alive).error());
  if (process.args.empty())
    co_return fail(Error(ErrorCode::ConfigInvalid, context + ": process.args is empty"));

  unsigned ns_flags = 0;
  for (const auto& ns : config_.linux_spec.namespaces)
    if (ns.type != NamespaceType::Pid && ns.type != NamespaceType::User)
      ns_flags |= static_cast<unsigned>(clone_flag(ns.type));

  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int stdio[3];
  for (int i = 0; i < 3; ++i)
    stdio[i] = ::fcntl(io.stdin_fd >= 0 && i == 0    ? io.stdin_fd
                       : i == 1 && io.stdout_fd >= 0 ? io.stdout_fd
                       : i == 2 && io.stderr_fd >= 0 ? io.stderr_fd
                                                     : null_fd,
                       F_DUPFD_CLOEXEC, kFirstSafeFd);
  ::close(null_fd);
  int go[2], report[2];
  ::pipe2(go, O_CLOEXEC);
  ::pipe2(report, O_CLOEXEC);
  auto close_all = [&] {
    for (int fd : {stdio[0], stdio[1], stdio[2], go[0], go[1], report[0], report[1]})
      if (fd >= 0) ::close(fd);
  };

  auto candidates = exec_candidates(process.args[0], process.env);
  std::vector<const char*> candidate_ptrs;
  for (const auto& c : candidates) candidate_ptrs.push_back(c.c_str());
  std::string not_found =
      process.args[0].find('/') != std::string::npos
          ? "exec: \"" + process.args[0] + "\": file does not exist\n"
          : "exec: \"" + process.args[0] + "\": executable file not found in $PATH\n";
  std::string other_prefix = "exec: \"" + process.args[0] + "\": ";
  auto argv = c_strings(process.args);
  auto envp = c_strings(process.env);
  std::vector<gid_t> groups(process.user.additional_gids.begin(),
                            process.user.additional_gids.end());
  const int target_pidfd = pidfd_;

  int pidfd = -1;
  auto cloned = with_pid_namespace_for_children(pidfd_, [&]() -> long {
    clone_args args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<__u64>(&pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid != 0) return pid < 0 ? -errno : pid;
    // The child: system calls only.
    if (ns_flags && ::setns(target_pidfd, static_cast<int>(ns_flags)) < 0)
      report_and_exit(report[1], 0, errno, 120);
    reactor::reset_signals_for_exec();
    if (::dup2(stdio[0], 0) < 0 || ::dup2(stdio[1], 1) < 0 || ::dup2(stdio[2], 2) < 0)
      report_and_exit(report[1], 0, errno, 120);
    char byte;
    if (::read(go[0], &byte, 1) != 1) ::_exit(120);  // the parent gave up
    if (::setgroups(groups.size(), groups.data()) < 0 || ::setgid(process.user.gid) < 0 ||
        ::setuid(process.user.uid) < 0)
      report_and_exit(report[1], 0, errno, 120);
    if (::chdir(process.cwd.c_str()) < 0) report_and_exit(report[1], 0, errno, 120);
    ::umask(process.user.umask.value_or(022));
    int err = ENOENT;
    bool found = false;
    for (const char* candidate : candidate_ptrs) {
      ::execve(candidate, argv.data(), envp.data());
      if (errno != ENOENT) {
        err = errno;
        found = true;
        break;
      }
    }
    if (found) {
      write_str(2, other_prefix.c_str());
      write_str(2, std::strerror(err));
      write_str(2, "\n");
      report_and_exit(report[1], 1, err, 126);
    }
    write_str(2, not_found.c_str());
    report_and_exit(report[1], 1, ENOENT, 127);
  });
  if (!cloned || *cloned < 0) {
    close_all();
    if (!cloned) co_return fail(std::move(cloned).error().with_context(context));
    co_return fail(Error::from_errno(static_cast<int>(-*cloned), context + ": clone3"));
  }
  pid_t pid = static_cast<pid_t>(*cloned);
  ::close(report[1]);
  report[1] = -1;
  ::close(go[0]);
  go[0] = -1;
  auto placed = manager_ ? manager_->add_process(pid) : Expected<void>{};
  auto handle = std::make_unique<ExecProcess>(pid, pidfd, std::nullopt);
  if (!placed) {
    close_all();  // closing the go pipe makes the child exit
    (void)co_await handle->wait();
    co_return fail(std::move(placed).error().with_context(context));
  }
  [[maybe_unused]] ssize_t w = ::write(go[1], "g", 1);
  Report r{};
  char raw[sizeof(Report)];
  ssize_t n;
  do {
    n = ::read(report[0], raw, sizeof raw);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof raw)) std::memcpy(&r, raw, sizeof r);
  close_all();
  if (n == static_cast<ssize_t>(sizeof r)) {
    if (r.stage == 0) {
      (void)co_await handle->wait();
      co_return fail(Error::from_errno(
          r.err, context + ": prepare the process (setns, user, cwd " + process.cwd + ")"));
    }
    handle->failure_ = ExecFailure{r.err, process.args[0]};
  }
  co_return handle;
}

}  // namespace corral
