// Container::exec: a further process in a running container, with every process setting of
// the container's init (capabilities, rlimits, no_new_privs, seccomp, user, groups, umask,
// cwd, env).
//
// The child joins the container: its PID namespace by birth (the parent's thread enters it for
// the clone, as setns on a PID namespace affects only children), every other namespace of the
// init with one setns(pidfd, flags); the parent then places it in the container's cgroup, and
// only then does it execveat the init binary, so that all the init's memory is the container's.
// The init binary is static (it runs in the container's mount namespace, where none of our
// libraries are) and is exec'd from the runtime's read-only detached mount of it
// (runtime/protected_binary.hpp), never by path. As "setns" init it reads the bootstrap (the
// container's config with this process) from the init pipe, applies the same settings code as
// the standard init and execs the program; a setup failure comes back as a serialized Error
// alone, an exec failure as procExecFailed followed by exit 127/126.
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/signals.hpp"
#include "runtime/container.hpp"
#include "runtime/init_launch.hpp"
#include "runtime/protected_binary.hpp"
#include "runtime/quiet_pipe_write.hpp"

namespace corral {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExecFirstSafeFd = 64;  // sources are moved up here so dup2 onto 0..5 never clobbers

// What the child says on the report pipe when it fails before the init runs.
struct ChildFailure {
  int stage = 0;  // kJoinFailed or kExecInitFailed
  int err = 0;
};
constexpr int kJoinFailed = 1;      // setns, stdio
constexpr int kExecInitFailed = 2;  // execveat of the init

std::vector<char*> exec_c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void report_and_exit(int report_fd, int stage, int err) {
  ChildFailure failure{stage, err};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &failure, sizeof failure);
  ::_exit(120);
}

// Descriptors the exec owns until it returns.
struct OwnedFds {
  std::vector<int> fds;
  ~OwnedFds() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
  void close(int& fd) {
    for (int& owned : fds)
      if (owned == fd) owned = -1;
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

Error exec_error(const std::string& context, const std::string& what, ErrorCause cause = {}) {
  return Error(ErrorCode::SystemError, context + ": " + what, std::move(cause));
}

// One frame from the setns init, or nullopt at end of stream; bounded by the deadline.
reactor::Task<Expected<std::optional<std::string>>> next_init_frame(int fd,
                                                                    protocol::FrameReader& reader,
                                                                    Clock::time_point deadline,
                                                                    const std::string& context) {
  for (;;) {
    auto frame = reader.next();
    if (!frame) co_return fail(std::move(frame).error().with_context(context + ": init pipe"));
    if (*frame || reader.at_eof()) co_return std::move(*frame);
    char buffer[4096];
    auto remaining = deadline - Clock::now();
    auto n = co_await reactor::recv(fd, buffer, sizeof buffer).with_timeout(remaining);
    if (!n) {
      if (n.error().value() == ETIME)
        co_return fail(exec_error(context, "the init did not answer in time",
                                  ErrorCause{ETIMEDOUT, "read init pipe", {}}));
      if (n.error().value() == ECONNRESET) {
        reader.feed_eof();
        continue;
      }
      co_return fail(Error::from_errno(n.error().value(), context + ": read init pipe"));
    }
    if (*n == 0)
      reader.feed_eof();
    else
      reader.feed(std::string_view(buffer, *n));
  }
}

reactor::Task<Expected<void>> send_all(int fd, std::string line, std::string context) {
  std::size_t sent = 0;
  while (sent < line.size()) {
    auto n = co_await reactor::send(fd, line.data() + sent, line.size() - sent);
    if (!n) co_return fail(Error::from_errno(n.error().value(), context + ": write init pipe"));
    sent += *n;
  }
  co_return Expected<void>{};
}

// The child's failure before the init ran, or nothing once the init was exec'd (the report
// pipe is close-on-exec, so exec is end of stream).
reactor::Task<Expected<std::optional<ChildFailure>>> read_child_failure(int fd,
                                                                        Clock::time_point deadline,
                                                                        std::string context) {
  char raw[sizeof(ChildFailure)];
  std::size_t got = 0;
  while (got < sizeof raw) {
    auto n = co_await reactor::read(fd, raw + got, sizeof raw - got)
                 .with_timeout(deadline - Clock::now());
    if (!n) {
      if (n.error().value() == ETIME)
        co_return fail(exec_error(context, "the child did not start the init in time",
                                  ErrorCause{ETIMEDOUT, "read report pipe", {}}));
      co_return fail(Error::from_errno(n.error().value(), context + ": read report pipe"));
    }
    if (*n == 0) break;
    got += *n;
  }
  if (got < sizeof raw) co_return std::optional<ChildFailure>{};
  ChildFailure failure;
  std::memcpy(&failure, raw, sizeof failure);
  co_return failure;
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
  if (auto unparked = unpark_config(); !unparked)
    co_return fail(std::move(unparked).error().with_context(context));
  if (process.args.empty())
    co_return fail(Error(ErrorCode::ConfigInvalid, context + ": process.args is empty"));
  if (process.terminal && io.console_socket_fd < 0)
    co_return fail(Error(ErrorCode::ConfigInvalid,
                         context + ": process.terminal is true but no console socket was given"));
  auto init_binary = protected_init_binary(settings_.init_path);
  if (!init_binary) co_return fail(std::move(init_binary).error().with_context(context));

  // The PID namespace is joined by birth (below); every other one with one setns on the pidfd.
  unsigned ns_flags = 0;
  for (const auto& ns : config().linux_spec.namespaces)
    if (ns.type != NamespaceType::Pid) ns_flags |= static_cast<unsigned>(clone_flag(ns.type));

  // The child's layout: 0-2 stdio, 3..P-1 preserved (left in place), P the init pipe, then the
  // console socket (with a terminal), then the init binary and the report pipe (close-on-exec).
  // Every source is moved above all of these first, so no dup2 clobbers another source.
  const unsigned preserved = io.preserved_fds;
  const int pipe_target = child_pipe_fd(preserved);
  const bool with_console = process.terminal;
  const int console_target = with_console ? pipe_target + 1 : -1;
  const int init_target = pipe_target + (with_console ? 2 : 1);
  const int report_target = init_target + 1;
  const int first_safe_fd = std::max(kExecFirstSafeFd, report_target + 1);

  OwnedFds owned;
  const InitPidfd target = init_pidfd();
  const int target_pidfd = target.fd;
  if (target_pidfd < 0)
    co_return fail(Error(ErrorCode::ContainerNotRunning, context + ": the init is gone"));
  int null_fd = owned.add(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_fd < 0) co_return fail(Error::from_errno(errno, context + ": open", "/dev/null"));
  int stdio[3];
  const int given[3] = {io.stdin_fd, io.stdout_fd, io.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    stdio[i] =
        owned.add(::fcntl(given[i] >= 0 ? given[i] : null_fd, F_DUPFD_CLOEXEC, first_safe_fd));
    if (stdio[i] < 0) co_return fail(Error::from_errno(errno, context + ": dup stdio"));
  }
  int console_fd = -1;
  if (with_console) {
    console_fd = owned.add(::fcntl(io.console_socket_fd, F_DUPFD_CLOEXEC, first_safe_fd));
    if (console_fd < 0) co_return fail(Error::from_errno(errno, context + ": dup console socket"));
  }
  int init_fd = owned.add(::fcntl(init_binary->fd, F_DUPFD_CLOEXEC, first_safe_fd));
  if (init_fd < 0) co_return fail(Error::from_errno(errno, context + ": dup", settings_.init_path));
  int sockets[2], go[2], report[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0)
    co_return fail(Error::from_errno(errno, context + ": socketpair"));
  int pipe_fd = owned.add(sockets[0]);
  int child_pipe = owned.add(::fcntl(sockets[1], F_DUPFD_CLOEXEC, first_safe_fd));
  ::close(sockets[1]);
  if (child_pipe < 0) co_return fail(Error::from_errno(errno, context + ": dup init pipe"));
  if (::pipe2(go, O_CLOEXEC) < 0) co_return fail(Error::from_errno(errno, context + ": pipe"));
  owned.add(go[0]);
  owned.add(go[1]);
  if (::pipe2(report, O_CLOEXEC) < 0) co_return fail(Error::from_errno(errno, context + ": pipe"));
  owned.add(report[0]);
  int report_write = owned.add(::fcntl(report[1], F_DUPFD_CLOEXEC, first_safe_fd));
  ::close(report[1]);
  if (report_write < 0) co_return fail(Error::from_errno(errno, context + ": dup report pipe"));
  ::fcntl(pipe_fd, F_SETFL, ::fcntl(pipe_fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(report[0], F_SETFL, ::fcntl(report[0], F_GETFL) | O_NONBLOCK);

  std::vector<std::string> init_args = settings_.init_argv;
  std::vector<std::string> init_env = {
      std::string(protocol::kInitPipeEnv) + "=" + std::to_string(pipe_target),
      std::string(protocol::kInitTypeEnv) + "=setns"};
  auto argv = exec_c_strings(init_args);
  auto envp = exec_c_strings(init_env);
  const int go_read = go[0];
  const int go_write = go[1];

  int pidfd = -1;
  auto cloned = with_pid_namespace_for_children(target_pidfd, [&]() -> long {
    clone_args args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<__u64>(&pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid != 0) return pid < 0 ? -errno : pid;
    // The child: system calls only. A copy of the runtime must not be inspectable from inside.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (ns_flags && ::setns(target_pidfd, static_cast<int>(ns_flags)) < 0)
      report_and_exit(report_write, kJoinFailed, errno);
    reactor::reset_signals_for_exec();
    ::close(go_write);  // else our own copy would keep the parent's "give up" from reaching us
    char byte;
    if (::read(go_read, &byte, 1) != 1) ::_exit(120);  // the parent gave up
    bool ok = ::dup2(stdio[0], 0) >= 0 && ::dup2(stdio[1], 1) >= 0 && ::dup2(stdio[2], 2) >= 0 &&
              ::dup2(child_pipe, pipe_target) >= 0 &&
              (console_fd < 0 || ::dup2(console_fd, console_target) >= 0) &&
              ::dup3(init_fd, init_target, O_CLOEXEC) >= 0 &&
              ::dup3(report_write, report_target, O_CLOEXEC) >= 0;
    // A preserved fd the caller marked close-on-exec is passed all the same: it was asked for.
    for (unsigned i = 0; ok && i < preserved; ++i)
      ok = ::fcntl(3 + static_cast<int>(i), F_SETFD, 0) >= 0;
    if (!ok) report_and_exit(report_write, kJoinFailed, errno);
    ::syscall(SYS_close_range, report_target + 1, ~0U, 0);
    ::syscall(SYS_execveat, init_target, "", argv.data(), envp.data(), AT_EMPTY_PATH);
    report_and_exit(report_target, kExecInitFailed, errno);
  });
  if (!cloned) co_return fail(std::move(cloned).error().with_context(context));
  if (*cloned < 0)
    co_return fail(Error::from_errno(static_cast<int>(-*cloned), context + ": clone3"));
  pid_t pid = static_cast<pid_t>(*cloned);
  auto handle = std::make_unique<ExecProcess>(pid, pidfd, std::nullopt);
  owned.close(report_write);
  owned.close(child_pipe);
  owned.close(go[0]);
  auto deadline = Clock::now() + settings_.setup_timeout;

  // In the container's cgroup before the init is exec'd: all its memory is charged there.
  auto placed = manager_ ? manager_->add_process(pid) : Expected<void>{};
  if (!placed) {
    owned.close(go[1]);  // the child sees end of stream and exits
    (void)co_await handle->wait();
    co_return fail(std::move(placed).error().with_context(context));
  }
  [[maybe_unused]] ssize_t w = write_without_sigpipe(go[1], "g", 1);
  owned.close(go[1]);
  auto child_failure = co_await read_child_failure(report[0], deadline, context);
  if (!child_failure || *child_failure) {
    (void)co_await handle->wait();
    if (!child_failure) co_return fail(std::move(child_failure).error());
    const ChildFailure& f = **child_failure;
    if (f.stage == kExecInitFailed)
      co_return fail(Error::from_errno(f.err, context + ": exec the init", settings_.init_path));
    co_return fail(Error::from_errno(f.err, context + ": join the container's namespaces"));
  }

  protocol::Bootstrap bootstrap;
  bootstrap.init_type = protocol::InitType::Setns;
  bootstrap.container_id = state_.id;
  bootstrap.bundle = config().bundle;
  bootstrap.config = config();
  bootstrap.config.process = std::move(process);
  bootstrap.preserved_fds = preserved;
  if (with_console) bootstrap.console_socket_fd = console_target;
  auto line = protocol::encode_for_init(std::move(bootstrap));
  Expected<void> sent = {};
  if (line)
    sent = co_await send_all(pipe_fd, std::move(*line), context);
  else
    sent = fail(std::move(line).error());
  // The init's answer: end of stream once the program runs, procExecFailed before that when it
  // could not be exec'd, or a serialized Error alone when a setup step failed.
  protocol::FrameReader reader;
  Expected<void> setup = sent;
  while (setup) {
    auto frame = co_await next_init_frame(pipe_fd, reader, deadline, context);
    if (!frame) {
      setup = fail(std::move(frame).error());
      break;
    }
    if (!*frame) break;
    auto message = protocol::decode_sync(**frame);
    if (message && message->type == protocol::SyncType::ProcExecFailed) {
      handle->failure_ = ExecFailure{message->errno_value, message->path};
    } else if (message) {
      setup = fail(exec_error(
          context, "unexpected " + std::string(to_string(message->type)) + " from the setns init"));
    } else {
      Error e = protocol::decode_error(**frame);
      setup = fail(Error(ErrorCode::SystemError, context + ": init: " + e.message(), e.cause()));
    }
  }
  if (!setup) {
    (void)handle->signal(SIGKILL);
    (void)co_await handle->wait();
    co_return fail(std::move(setup).error());
  }
  co_return handle;
}

}  // namespace corral
