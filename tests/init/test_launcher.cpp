#include "test_launcher.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "busybox_rootfs.hpp"

namespace corral::testing {

namespace {

constexpr int kChildPipeFd = 10;
constexpr int kLeakedFd = 11;

[[noreturn]] void exec_init(int pipe_fd, int out_fd, int err_fd, const char* init_path,
                            char* const* envp, bool leak) {
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0 ||
      ::dup2(pipe_fd, kChildPipeFd) < 0)
    ::_exit(120);
  if (leak) {
    ::dup2(null_fd, kLeakedFd);  // dup2 leaves it without CLOEXEC
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGUSR2, SIG_IGN);
  }
  char* const argv[] = {const_cast<char*>("corral-init"), nullptr};
  ::execve(init_path, argv, envp);
  ::_exit(121);
}

void start_through_fifo(const LaunchOptions& options, LaunchResult& result) {
  if (options.before_start) options.before_start();
  int fifo = ::open(options.exec_fifo.c_str(), O_RDONLY | O_CLOEXEC);
  if (fifo < 0) {
    result.launcher_error = std::string("open exec fifo: ") + std::strerror(errno);
    return;
  }
  char buffer[16];
  ssize_t n;
  while ((n = ::read(fifo, buffer, sizeof buffer)) > 0)
    result.exec_fifo_bytes.append(buffer, static_cast<std::size_t>(n));
  ::close(fifo);
}

}  // namespace

bool LaunchResult::saw(protocol::SyncType type) const {
  for (const auto& m : messages)
    if (m.type == type) return true;
  return false;
}

LaunchResult launch(const Config& config, const std::string& work_dir,
                    const LaunchOptions& options) {
  LaunchResult result;
  std::string init_path = std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
  std::string out_path = work_dir + "/stdout", err_path = work_dir + "/stderr";
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int sockets[2];
  if (out_fd < 0 || err_fd < 0 ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) {
    result.launcher_error = std::string("setup: ") + std::strerror(errno);
    return result;
  }
  std::string pipe_env = std::string(protocol::kInitPipeEnv) + "=" + std::to_string(kChildPipeFd);
  std::string type_env =
      std::string(protocol::kInitTypeEnv) + "=" + std::string(to_string(options.init_type));
  std::string leak_env = "CORRAL_RUNTIME_SECRET=must-not-reach-the-container";
  char* envp[] = {pipe_env.data(), type_env.data(), leak_env.data(), nullptr};

  std::uint64_t flags = 0;
  if (options.init_type == protocol::InitType::Standard) {
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (options.new_network) flags |= CLONE_NEWNET;
  }
  struct clone_args args {};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    exec_init(sockets[1], out_fd, err_fd, init_path.c_str(), envp, options.leak_fd_and_signals);
  ::close(sockets[1]);
  ::close(out_fd);
  ::close(err_fd);
  if (pid < 0) {
    result.launcher_error = std::string("clone3: ") + std::strerror(errno);
    ::close(sockets[0]);
    return result;
  }

  int fd = sockets[0];
  protocol::Bootstrap bootstrap;
  bootstrap.init_type = options.init_type;
  bootstrap.container_id = "test";
  bootstrap.bundle = config.bundle;
  bootstrap.config = config;
  bootstrap.exec_fifo_path = options.exec_fifo;
  bootstrap.no_pivot = options.no_pivot;
  auto sent = protocol::write_all(fd, protocol::encode(bootstrap));
  if (!sent) result.launcher_error = "send bootstrap: " + sent.error().message();

  protocol::FrameReader reader;
  bool expect_error = false;
  while (sent && result.launcher_error.empty()) {
    auto frame = protocol::read_frame(fd, reader);
    if (!frame) {
      if (!reader.at_eof()) result.launcher_error = frame.error().message();
      break;  // end of stream: the init exec'd or exited
    }
    if (expect_error) {
      result.error = protocol::decode_error(*frame);
      expect_error = false;
      continue;
    }
    auto message = protocol::decode_sync(*frame);
    if (!message) {
      // The setns init sends the serialized error without procError first.
      if (options.init_type == protocol::InitType::Setns)
        result.error = protocol::decode_error(*frame);
      else
        result.launcher_error = message.error().message();
      continue;
    }
    result.messages.push_back(*message);
    switch (message->type) {
      case protocol::SyncType::ProcHooks:
        (void)protocol::write_all(
            fd, protocol::encode(protocol::SyncMessage{protocol::SyncType::ProcResume, 0, {}}));
        break;
      case protocol::SyncType::ProcReady:
        (void)protocol::write_all(
            fd, protocol::encode(protocol::SyncMessage{protocol::SyncType::ProcRun, 0, {}}));
        if (!options.exec_fifo.empty()) start_through_fifo(options, result);
        break;
      case protocol::SyncType::ProcError:
        expect_error = true;
        break;
      case protocol::SyncType::ProcExecFailed:
        result.exec_failed = *message;
        break;
      case protocol::SyncType::ProcCreated:  // setup done, the init waits on the exec fifo
        break;
      default:
        result.launcher_error = "unexpected " + std::string(to_string(message->type));
    }
  }
  ::close(fd);
  int status = 0;
  while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

}  // namespace corral::testing
