#include "init/init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>

#include "init/console.hpp"
#include "init/devices.hpp"
#include "init/exec_process.hpp"
#include "init/in_root.hpp"
#include "init/mounts.hpp"
#include "init/process_settings.hpp"
#include "init/rootfs.hpp"
#include "init/seccomp_filter.hpp"
#include "init/setup_error.hpp"
#include "init/unique_fd.hpp"
#include "runtime/spec/protocol.hpp"

namespace corral::init {

namespace {

using protocol::SyncType;

#define CORRAL_TRY(expr)                                                       \
  do {                                                                         \
    auto corral_try_result = (expr);                                           \
    if (!corral_try_result) return fail(std::move(corral_try_result).error()); \
  } while (0)

// The child's end of the init pipe.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd), reader_(protocol::kMaxBootstrapSize) {}
  int fd() const { return fd_; }

  Expected<protocol::Bootstrap> read_bootstrap() {
    auto frame = protocol::read_frame(fd_, reader_);
    reader_.set_max_frame(protocol::kMaxMessageSize);
    if (!frame) return fail(std::move(frame).error());
    return protocol::decode_bootstrap(*frame);
  }
  Expected<void> send(SyncType type) {
    protocol::SyncMessage message;
    message.type = type;
    return protocol::write_all(fd_, protocol::encode(message));
  }
  Expected<void> expect(SyncType type) {
    auto frame = protocol::read_frame(fd_, reader_);
    if (!frame) return fail(std::move(frame).error());
    auto message = protocol::decode_sync(*frame);
    if (!message) return fail(std::move(message).error());
    if (message->type != type)
      return fail(setup_failure("init pipe: expected " + std::string(to_string(type)) + ", got " +
                                std::string(to_string(message->type))));
    return {};
  }
  // The setup failed: standard init says procError first, setns sends the error alone.
  void report(protocol::InitType type, const Error& error) {
    ::signal(SIGPIPE, SIG_IGN);
    if (type == protocol::InitType::Standard) (void)send(SyncType::ProcError);
    (void)protocol::write_all(fd_, protocol::encode_error(error));
  }

 private:
  int fd_;
  protocol::FrameReader reader_;
};

bool has_new_namespace(const Config& config, NamespaceType type) {
  for (const auto& ns : config.linux_spec.namespaces)
    if (ns.type == type && ns.path.empty()) return true;
  return false;
}
bool has_namespace(const Config& config, NamespaceType type) {
  for (const auto& ns : config.linux_spec.namespaces)
    if (ns.type == type) return true;
  return false;
}

// Everything from fd 3 + preserved_fds up is close-on-exec: the program gets 0-2 and the
// preserved fds only, and the parent sees end-of-stream on the init pipe once exec succeeds.
Expected<void> close_fds_on_exec(unsigned preserved_fds) {
  if (::close_range(3 + preserved_fds, UINT_MAX, CLOSE_RANGE_CLOEXEC) < 0)
    return fail(setup_error(errno, "mark fds close-on-exec", "close_range", {}));
  return {};
}

// Steps common to both init types after the handshake: seccomp (early when it may not rely on
// no_new_privs), user, capabilities, cwd, no_new_privs, umask, then the exec fifo and exec.
Expected<void> finish_and_exec(Channel& channel, const protocol::Bootstrap& bootstrap,
                               UniqueFd exec_fifo) {
  const Config& config = bootstrap.config;
  const Process& process = *config.process;
  bool in_user_ns = has_namespace(config, NamespaceType::User);
  const auto& seccomp = config.linux_spec.seccomp;
  if (seccomp && !process.no_new_privileges) CORRAL_TRY(load_seccomp(*seccomp));
  CORRAL_TRY(close_fds_on_exec(bootstrap.preserved_fds));
  if (process.capabilities) CORRAL_TRY(drop_bounding_set(*process.capabilities));
  CORRAL_TRY(switch_user(process.user, in_user_ns));
  if (::chdir(process.cwd.c_str()) < 0)
    return fail(setup_error(errno, "chdir to cwd " + process.cwd, "chdir", process.cwd));
  if (process.capabilities) CORRAL_TRY(apply_capabilities(*process.capabilities));
  if (process.no_new_privileges) CORRAL_TRY(set_no_new_privileges());
  ::umask(process.user.umask.value_or(022));

  if (process.args.empty()) return fail(setup_failure("process.args is empty"));

  if (exec_fifo.valid()) {
    // Setup is complete: `create` returns now. From here on only `start` moves us.
    CORRAL_TRY(channel.send(SyncType::ProcCreated));
    // Blocks until `start` opens the fifo for reading.
    std::string reopen = fd_path(exec_fifo.get());
    UniqueFd fifo(::open(reopen.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fifo.valid())
      return fail(setup_error(errno, "open exec fifo " + bootstrap.exec_fifo_path, "open",
                              bootstrap.exec_fifo_path));
    if (::write(fifo.get(), "0", 1) != 1)
      return fail(setup_error(errno, "write exec fifo " + bootstrap.exec_fifo_path, "write",
                              bootstrap.exec_fifo_path));
  }
  // The program is looked up only after start, so that a missing binary is the container's
  // exit status 127 (the seed's commit), not a failure of `create`.
  auto program = find_executable(process.args[0], process.env);
  if (!program) exit_with_exec_failure(channel.fd(), process.args[0], program.error());
  if (seccomp && process.no_new_privileges) CORRAL_TRY(load_seccomp(*seccomp));
  exec_program(channel.fd(), *program, process.args, process.env);
}

Expected<void> run_standard(Channel& channel, const protocol::Bootstrap& bootstrap) {
  const Config& config = bootstrap.config;
  const Process& process = *config.process;
  bool in_user_ns = has_namespace(config, NamespaceType::User);
  ::setsid();  // a session of its own (fails only if already a leader: fine)

  // Rootfs, before pivot_root: host paths (bind sources, the exec fifo) are still visible.
  auto root_fd = prepare_rootfs(config);
  if (!root_fd) return fail(std::move(root_fd).error());
  for (const auto& mount : config.mounts)
    CORRAL_TRY(mount_into_rootfs(root_fd->get(), config.root.path, mount));
  CORRAL_TRY(setup_dev(root_fd->get(), config, in_user_ns));
  UniqueFd exec_fifo;
  if (bootstrap.exec_fifo_fd >= 0) {
    exec_fifo.reset(bootstrap.exec_fifo_fd);
    if (::fcntl(exec_fifo.get(), F_SETFD, FD_CLOEXEC) < 0)
      return fail(setup_error(errno,
                              "take exec fifo " + bootstrap.exec_fifo_path + " as fd " +
                                  std::to_string(bootstrap.exec_fifo_fd),
                              "fcntl", bootstrap.exec_fifo_path));
  } else if (!bootstrap.exec_fifo_path.empty()) {
    exec_fifo.reset(::open(bootstrap.exec_fifo_path.c_str(), O_PATH | O_CLOEXEC));
    if (!exec_fifo.valid())
      return fail(setup_error(errno, "open exec fifo " + bootstrap.exec_fifo_path, "open",
                              bootstrap.exec_fifo_path));
  }

  // The parent runs createRuntime/prestart hooks here; it has placed us in our cgroup.
  CORRAL_TRY(channel.send(SyncType::ProcHooks));
  CORRAL_TRY(channel.expect(SyncType::ProcResume));
  if (has_new_namespace(config, NamespaceType::Cgroup) && ::unshare(CLONE_NEWCGROUP) < 0)
    return fail(setup_error(errno, "unshare the cgroup namespace", "unshare", {}));

  CORRAL_TRY(enter_rootfs(config.root.path, bootstrap.no_pivot));
  root_fd->reset();
  // The container's own devpts is mounted now: its terminal is made there.
  if (process.terminal)
    CORRAL_TRY(setup_console(bootstrap.console_socket_fd, process.console_size));
  CORRAL_TRY(set_hostname_and_domainname(config));
  CORRAL_TRY(apply_sysctls(config));
  CORRAL_TRY(make_paths_readonly(config.linux_spec.readonly_paths));
  CORRAL_TRY(mask_paths(config.linux_spec.masked_paths));
  if (config.root.readonly) CORRAL_TRY(make_root_readonly());
  CORRAL_TRY(apply_rlimits(process));
  CORRAL_TRY(apply_oom_score_adj(process));
  reset_signals();

  CORRAL_TRY(channel.send(SyncType::ProcReady));
  CORRAL_TRY(channel.expect(SyncType::ProcRun));
  return finish_and_exec(channel, bootstrap, std::move(exec_fifo));
}

Expected<void> run_setns(Channel& channel, const protocol::Bootstrap& bootstrap) {
  const Process& process = *bootstrap.config.process;
  if (process.terminal) {
    // The pty is made in the container's devpts (we are in its mount namespace); it can become
    // the controlling terminal only of a session leader.
    ::setsid();
    CORRAL_TRY(setup_console(bootstrap.console_socket_fd, process.console_size));
  }
  CORRAL_TRY(apply_rlimits(process));
  CORRAL_TRY(apply_oom_score_adj(process));
  reset_signals();
  return finish_and_exec(channel, bootstrap, UniqueFd());
}

Expected<void> check_supported(const protocol::Bootstrap& bootstrap) {
  const Config& config = bootstrap.config;
  if (!config.process)
    return fail(setup_failure("container " + bootstrap.container_id +
                              ": the config has no process to run"));
  if (config.process->terminal && bootstrap.console_socket_fd < 0)
    return fail(setup_failure("container " + bootstrap.container_id +
                              ": process.terminal is true but no console socket was passed"));
  return {};
}

}  // namespace

int start_initialization() {
  // Until it execs the container's program the init holds host resources (the init pipe, the
  // runtime's stdio, in the exec case fds from the host): no process of the container may
  // ptrace it or open its /proc files meanwhile. execve makes the program dumpable again.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const char* pipe_env = std::getenv(protocol::kInitPipeEnv);
  const char* type_env = std::getenv(protocol::kInitTypeEnv);
  char* end = nullptr;
  long pipe_fd = pipe_env ? std::strtol(pipe_env, &end, 10) : -1;
  if (!pipe_env || *pipe_env == '\0' || *end != '\0' || pipe_fd < 0 || pipe_fd > INT_MAX) {
    std::string line = std::string("corral-init: ") + protocol::kInitPipeEnv + "=\"" +
                       (pipe_env ? pipe_env : "") + "\" is not a file descriptor number\n";
    (void)protocol::write_all(STDERR_FILENO, line);
    return 1;
  }
  // The pipe must not leak into the container's program whatever happens below.
  ::fcntl(static_cast<int>(pipe_fd), F_SETFD, FD_CLOEXEC);
  Channel channel(static_cast<int>(pipe_fd));
  protocol::InitType type = protocol::InitType::Standard;
  bool type_known = type_env && protocol::parse_init_type(type_env, type);
  std::string type_text = type_env ? type_env : "";
  // Nothing of the runtime's environment may reach the container.
  ::clearenv();
  // Until the parent is answered, a dead parent must be a write error, not a SIGPIPE death.
  ::signal(SIGPIPE, SIG_IGN);
  // Created files and nodes get exactly the modes asked for; the process's umask comes last.
  ::umask(0);

  if (!type_known) {
    channel.report(protocol::InitType::Setns,
                   setup_failure(std::string(protocol::kInitTypeEnv) + "=\"" + type_text +
                                 "\" is neither \"standard\" nor \"setns\""));
    return 1;
  }
  auto bootstrap = channel.read_bootstrap();
  Expected<void> result;
  if (!bootstrap) {
    result = fail(std::move(bootstrap).error());
  } else if (bootstrap->init_type != type) {
    result = fail(setup_failure("init type mismatch: " + std::string(protocol::kInitTypeEnv) +
                                " says " + type_text + ", the bootstrap says " +
                                std::string(to_string(bootstrap->init_type))));
  } else {
    result = check_supported(*bootstrap);
    if (result)
      result = type == protocol::InitType::Standard ? run_standard(channel, *bootstrap)
                                                    : run_setns(channel, *bootstrap);
  }
  // Only failures get here: success execs.
  channel.report(type, result.error());
  return 1;
}

}  // namespace corral::init
