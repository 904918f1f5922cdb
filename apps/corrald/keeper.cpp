#include "keeper.hpp"
#include "runtime/unix_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "keeper_logs.hpp"
#include "keeper_protocol.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "reactor/signals.hpp"
#include "runtime/fd_passing.hpp"
#include "runtime/proc_stat.hpp"
#include "runtime/supervisor/exit_journal.hpp"
#include "runtime/supervisor/notifier.hpp"

extern char** environ;

namespace corrald {

using namespace corral;
using supervisor::ExitJournal;
using supervisor::ReapedExit;

namespace {

std::string exit_message(const ReapedExit& record) {
  nlohmann::json j = record.to_json();
  j["op"] = "exit";
  return j.dump();
}

void say(const std::string& text) {
  std::fprintf(stderr, "corrald-keeper: %s\n", text.c_str());
}

class Keeper {
 public:
  Keeper(const KeeperOptions& options, ExitJournal journal)
      : options_(options), journal_(std::move(journal)) {}

  reactor::Task<int> run(reactor::SignalSet& signals);

 private:
  Expected<void> spawn_daemon();
  void on_sigchld();
  void on_daemon_exit(int code, int status);
  reactor::Task<void> respawn_later(std::chrono::milliseconds delay);
  reactor::Task<void> read_channel(int fd, std::stop_token stop);
  reactor::Task<void> write_channel(int fd, std::stop_token stop);
  void handle(const std::string& text, std::vector<init::UniqueFd>& fds);
  void queue(std::string message);

  const KeeperOptions& options_;
  ExitJournal journal_;
  KeeperLogs logs_;
  reactor::TaskScope tasks_;
  std::stop_source stopping_;      // the keeper ends: every task
  std::stop_source channel_stop_;  // this corrald's link ends
  init::UniqueFd channel_;
  std::deque<std::string> outbox_;
  supervisor::Notifier outbox_ready_;
  pid_t daemon_ = -1;
  std::chrono::steady_clock::time_point daemon_started_{};
  std::chrono::milliseconds next_delay_{0};
  bool shutdown_requested_ = false;
  bool done_ = false;
  int exit_status_ = 0;
};

Expected<void> Keeper::spawn_daemon() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return fail(Error::from_errno(errno, "keeper: socketpair for corrald"));
  init::UniqueFd ours(pair[0]), theirs(pair[1]);
  std::vector<std::string> args = options_.daemon_argv;
  args.push_back(kKeeperFdFlag);
  args.push_back("3");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);  // dup2 clears close-on-exec
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  // By its real path, so that the daemon is called corrald in ps, not "exe".
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) self = "/proc/self/exe";
  int spawned = ::posix_spawn(&pid, self.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return fail(Error::from_errno(spawned, "keeper: start corrald"));
  daemon_ = pid;
  daemon_started_ = std::chrono::steady_clock::now();
  ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);
  channel_ = std::move(ours);
  channel_stop_ = std::stop_source();
  outbox_.clear();
  // What the previous corrald did not acknowledge, then the end of the backlog.
  for (const auto& [seq, record] : journal_.pending()) queue(exit_message(record));
  queue(R"({"op":"ready"})");
  tasks_.spawn(read_channel(channel_.get(), channel_stop_.get_token()));
  tasks_.spawn(write_channel(channel_.get(), channel_stop_.get_token()));
  return {};
}

void Keeper::queue(std::string message) {
  outbox_.push_back(std::move(message));
  outbox_ready_.notify_all();
}

reactor::Task<void> Keeper::write_channel(int fd, std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (outbox_.empty()) {
      if (!co_await outbox_ready_.wait(stop)) break;
      continue;
    }
    ssize_t n = ::send(fd, outbox_.front().data(), outbox_.front().size(), MSG_NOSIGNAL);
    if (n >= 0) {
      outbox_.pop_front();
    } else if (errno == EAGAIN) {
      if (!co_await reactor::poll(fd, POLLOUT).with_stop(stop)) break;
    } else if (errno != EINTR) {
      break;  // corrald gone: its exit (SIGCHLD) decides what happens next
    }
  }
}

reactor::Task<void> Keeper::read_channel(int fd, std::stop_token stop) {
  for (;;) {
    auto ready = co_await reactor::poll(fd, POLLIN).with_stop(stop);
    if (!ready) co_return;
    for (;;) {
      // The poll may have completed just as this link was ended (corrald died and its end was
      // closed): the number may already name another descriptor, the next corrald's link.
      if (stop.stop_requested()) co_return;
      auto message = receive_with_fds(fd, kKeeperMessageMax, "keeper: message from corrald");
      if (!message) {
        const int err = message.error().cause().errno_value;
        if (err == EAGAIN) break;
        say(message.error().what() + (err == 0 ? " (dropped)" : " (link ended)"));
        if (err != 0) co_return;  // the socket failed, not one message: retrying would spin
        continue;
      }
      if (message->data.empty()) co_return;  // corrald closed its end (or died)
      handle(message->data, message->fds);
    }
  }
}

void Keeper::handle(const std::string& text, std::vector<init::UniqueFd>& fds) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::string op = j.is_object() ? j.value("op", "") : "";
  if (op == "capture" && fds.size() == 2 && j["id"].is_string() && j["path"].is_string()) {
    supervisor::LogRotation rotation;
    rotation.max_bytes = j.value("max_bytes", rotation.max_bytes);
    rotation.rotated_kept = j.value("keep", rotation.rotated_kept);
    std::size_t max_line = j.value("max_line", supervisor::CriLineSplitter::kDefaultMaxLine);
    logs_.capture(j["id"].get<std::string>(), j["path"].get<std::string>(), rotation, max_line,
                  std::move(fds[0]), std::move(fds[1]), tasks_, stopping_.get_token());
  } else if (op == "ack" && j["seq"].is_number_unsigned()) {
    if (auto acked = journal_.acknowledge(j["seq"].get<std::uint64_t>()); !acked)
      say(acked.error().what());
  } else {
    say("malformed message from corrald (dropped): " + text.substr(0, 200));
  }
}

void Keeper::on_sigchld() {
  std::vector<ReapedExit> batch;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0) break;
    pid_t pid = info.si_pid;
    // Read while it is a zombie: its start time names it, together with the pid.
    auto stat = read_proc_stat(pid);
    siginfo_t reaped{};
    ::waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED | WNOHANG);
    if (pid == daemon_) {
      on_daemon_exit(info.si_code, info.si_status);
      continue;
    }
    ReapedExit record;
    record.pid = pid;
    record.start_time = stat ? stat->start_time : 0;
    record.exit.code = info.si_code;
    record.exit.status = info.si_status;
    record.exit.time_ns = unix_time_ns();
    batch.push_back(record);
  }
  if (batch.empty()) return;
  if (auto appended = journal_.append(batch); !appended)
    say(appended.error().what() + " (the records go to corrald all the same)");
  if (channel_.valid())
    for (const ReapedExit& record : batch) queue(exit_message(record));
}

void Keeper::on_daemon_exit(int code, int status) {
  daemon_ = -1;
  channel_stop_.request_stop();
  channel_.reset();
  outbox_.clear();
  const bool clean = code == CLD_EXITED && status == 0;
  if (shutdown_requested_ || clean) {
    exit_status_ = code == CLD_EXITED ? status : 128 + status;
    done_ = true;
    return;
  }
  auto lived = std::chrono::steady_clock::now() - daemon_started_;
  // A corrald that keeps dying at once is not restarted in a tight loop.
  next_delay_ = lived > std::chrono::seconds(10) || next_delay_.count() == 0
                    ? options_.respawn_delay
                    : std::min(next_delay_ * 2, std::chrono::milliseconds(30'000));
  say(std::string("corrald ") +
      (code == CLD_EXITED ? "exited with status " + std::to_string(status)
                          : std::string("was killed by SIG") + ::sigabbrev_np(status)) +
      "; starting it again in " + std::to_string(next_delay_.count()) + " ms");
  tasks_.spawn(respawn_later(next_delay_));
}

reactor::Task<void> Keeper::respawn_later(std::chrono::milliseconds delay) {
  if (!co_await reactor::sleep_for(delay).with_stop(stopping_.get_token())) co_return;
  if (shutdown_requested_ || daemon_ > 0) co_return;
  if (auto spawned = spawn_daemon(); !spawned) {
    say(spawned.error().what() + "; giving up");
    exit_status_ = 1;
    shutdown_requested_ = true;
    ::kill(::getpid(), SIGTERM);  // wakes the signal loop, which ends with no corrald left
  }
}

reactor::Task<int> Keeper::run(reactor::SignalSet& signals) {
  // Two pipes per container, as direct descriptors (the table is clamped to the fd limit).
  std::string table;
  if (auto opened = logs_.open_table(1u << 16, table); !opened) {
    say(opened.error().what());
    co_return 1;
  }
  say("log pipes: " + table);
  if (auto spawned = spawn_daemon(); !spawned) {
    say(spawned.error().what());
    co_return 1;
  }
  while (!done_) {
    signalfd_siginfo info{};
    auto n = co_await reactor::read(signals.fd(), &info, sizeof info);
    if (!n) {
      say("read signalfd: " + n.error().message());
      break;
    }
    if (info.ssi_signo == SIGCHLD) {
      on_sigchld();
    } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      shutdown_requested_ = true;
      if (daemon_ > 0)
        ::kill(daemon_, static_cast<int>(info.ssi_signo));
      else
        done_ = true;
    }
  }
  stopping_.request_stop();
  channel_stop_.request_stop();
  co_await tasks_.join();
  co_return exit_status_;
}

}  // namespace

int run_keeper(const KeeperOptions& options) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    std::perror("corrald-keeper: PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  ::prctl(PR_SET_NAME, "corrald-keeper", 0, 0, 0);
  ::signal(SIGPIPE, SIG_IGN);
  for (const std::string& dir : {options.root, options.root + "/keeper"})
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
      say("mkdir " + dir + ": " + std::strerror(errno));
      return 1;
    }
  auto journal = ExitJournal::open(options.root + "/keeper/exits.journal");
  if (!journal) {
    say(journal.error().what());
    return 1;
  }
  reactor::SignalSet signals{SIGTERM, SIGINT, SIGCHLD};
  reactor::Reactor reactor;
  Keeper keeper(options, std::move(*journal));
  return reactor.block_on(keeper.run(signals));
}

}  // namespace corrald
