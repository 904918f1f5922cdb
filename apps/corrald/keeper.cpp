#include "keeper.hpp"
#include "runtime/unix_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>

#include "keeper_front_door.hpp"
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
#include "spawn_corrald.hpp"

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
  Keeper(const KeeperOptions& options, ExitJournal journal, init::UniqueFd listener,
         init::UniqueFd log)
      : options_(options),
        journal_(std::move(journal)),
        log_(std::move(log)),
        fronts_(std::move(listener),
                {[this](ServeRequest r) { return serve(std::move(r)); },
                 [this](int signal) { on_front_signal(signal); }, [this] { on_front_gone(); }}) {}

  reactor::Task<int> run(reactor::SignalSet& signals);

 private:
  // corrald proper, for the attached front.
  Expected<pid_t> serve(ServeRequest request);
  Expected<void> spawn_daemon();
  void stop_daemon(int signal);
  void on_front_signal(int signal);
  void on_front_gone();
  void on_sigchld();
  void on_daemon_exit(int code, int status);
  reactor::Task<void> respawn_later(std::chrono::milliseconds delay);
  reactor::Task<void> read_channel(int fd, std::stop_token stop);
  reactor::Task<void> write_channel(int fd, std::stop_token stop);
  void handle(const std::string& text, std::vector<init::UniqueFd>& fds);
  void queue(std::string message);
  // The keeper's own end: when nothing is left to keep, or on its own SIGTERM.
  reactor::Task<void> end_if_never_used(std::chrono::seconds grace);
  void end_if_idle();
  void finish(int status);
  // The attached front is gone or told: corrald is not run for anybody any more.
  void detach_front();
  // Waits (bounded) for the log pumps to reach their pipes' ends, then stops the rest.
  reactor::Task<void> drain_logs(std::chrono::milliseconds limit);

  const KeeperOptions& options_;
  ExitJournal journal_;
  init::UniqueFd log_;  // ROOT/keeper/keeper.log: our stderr while no front is attached
  KeeperLogs logs_;
  FrontDoor fronts_;
  reactor::TaskScope tasks_;
  std::stop_source stopping_;      // the keeper ends: every task (the log streams: logs_.stop())
  std::stop_source channel_stop_;  // this corrald's link ends
  init::UniqueFd channel_;
  std::deque<std::string> outbox_;
  supervisor::Notifier outbox_ready_;
  std::optional<ServeRequest> request_;  // how the attached front wants corrald run
  pid_t daemon_ = -1;
  std::chrono::steady_clock::time_point daemon_started_{};
  std::chrono::milliseconds next_delay_{0};
  bool shutdown_requested_ = false;  // corrald was told to stop: its exit is the end
  bool terminated_ = false;          // the keeper itself was told to stop
  bool lingering_ = false;           // no corrald, containers left: said once
  bool done_ = false;
  int exit_status_ = 0;
};

bool has_children() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

Expected<pid_t> Keeper::serve(ServeRequest request) {
  if (done_ || stopping_.stop_requested())  // the front retries, and finds the next keeper
    return fail(Error::from_errno(EBUSY, "keeper: ending"));
  if (daemon_ > 0)  // its front is gone; it ends soon
    return fail(Error::from_errno(
        EBUSY, "keeper: the last corrald (pid " + std::to_string(daemon_) + ") is still stopping"));
  // The keeper's own words go where this front's corrald writes, while it is attached.
  ::dup2(request.stdio[2].get(), STDERR_FILENO);
  request_ = std::move(request);
  shutdown_requested_ = false;
  lingering_ = false;
  next_delay_ = std::chrono::milliseconds(0);
  if (auto spawned = spawn_daemon(); !spawned) {
    request_.reset();
    if (log_.valid()) ::dup2(log_.get(), STDERR_FILENO);  // that front is told, and leaves
    return fail(std::move(spawned).error());
  }
  return daemon_;
}

void Keeper::stop_daemon(int signal) {
  shutdown_requested_ = true;
  if (daemon_ > 0) ::kill(daemon_, signal);
}

void Keeper::on_front_signal(int signal) {
  if (daemon_ <= 0) {  // between a crash and its respawn: nothing to stop but the wait
    fronts_.ended(0);
    detach_front();
    return;
  }
  // corrald stops cleanly on SIGTERM and SIGINT; a hangup means the same to it.
  stop_daemon(signal == SIGHUP ? SIGTERM : signal);
}

void Keeper::detach_front() {
  request_.reset();
  // No front: the keeper's words go to its own log from now on, not to a terminal or a pipe
  // somebody waits to see closed.
  if (log_.valid()) ::dup2(log_.get(), STDERR_FILENO);
  end_if_idle();
}

void Keeper::on_front_gone() {
  if (daemon_ > 0) {
    say("the corrald front is gone: stopping corrald");
    stop_daemon(SIGTERM);
  } else {
    detach_front();
  }
}

Expected<void> Keeper::spawn_daemon() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return fail(Error::from_errno(errno, "keeper: socketpair for corrald"));
  init::UniqueFd ours(pair[0]), theirs(pair[1]);
  std::vector<std::string> args = request_->argv;
  args.push_back(kKeeperFdFlag);
  args.push_back("3");
  const PassedFd passed[] = {{request_->stdio[0].get(), STDIN_FILENO},
                             {request_->stdio[1].get(), STDOUT_FILENO},
                             {request_->stdio[2].get(), STDERR_FILENO},
                             {theirs.get(), 3}};
  auto spawned = spawn_corrald(request_->exe, args, passed, request_->cwd, &request_->env, false);
  if (!spawned) return fail(std::move(spawned).error());
  pid_t pid = *spawned;
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
                  std::move(fds[0]), std::move(fds[1]));
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
  if (shutdown_requested_ || clean || !request_) {
    const int front_status = code == CLD_EXITED ? status : 128 + status;
    fronts_.ended(front_status);
    if (terminated_) {
      request_.reset();
      finish(front_status);
    } else {
      detach_front();
    }
    return;
  }
  auto lived = std::chrono::steady_clock::now() - daemon_started_;
  // A corrald that keeps dying at once is not restarted in a tight loop.
  next_delay_ = lived > std::chrono::seconds(10) || next_delay_.count() == 0
                    ? request_->respawn_delay
                    : std::min(next_delay_ * 2, std::chrono::milliseconds(30'000));
  say(std::string("corrald ") +
      (code == CLD_EXITED ? "exited with status " + std::to_string(status)
                          : std::string("was killed by SIG") + ::sigabbrev_np(status)) +
      "; starting it again in " + std::to_string(next_delay_.count()) + " ms");
  tasks_.spawn(respawn_later(next_delay_));
}

void Keeper::end_if_idle() {
  if (done_ || daemon_ > 0 || fronts_.attached()) return;
  if (!has_children()) {
    finish(exit_status_);
    return;
  }
  if (lingering_) return;
  lingering_ = true;
  say("corrald ended with containers still running: keeping their logs and exits for the next "
      "corrald on this root");
}

reactor::Task<void> Keeper::end_if_never_used(std::chrono::seconds grace) {
  std::stop_token stopping = stopping_.get_token();  // named: see OpAwaitable::with_stop
  if (co_await reactor::sleep_for(grace).with_stop(stopping)) end_if_idle();
}

void Keeper::finish(int status) {
  if (done_) return;
  // First: a front that comes now finds no socket (the lock is still ours) and waits for the
  // next keeper, instead of queueing on a listener nobody accepts on.
  ::unlink(keeper_socket_path(options_.root).c_str());
  if (has_children()) say("ending: the containers still running lose their log reader");
  fronts_.ended(status);
  exit_status_ = status;
  done_ = true;
  stopping_.request_stop();
}

reactor::Task<void> Keeper::drain_logs(std::chrono::milliseconds limit) {
  // Every writer is gone when no child is left, so each pipe reaches its end soon; a writer
  // that escaped (a descriptor passed to a process outside) must not keep the keeper.
  for (auto waited = std::chrono::milliseconds(0); logs_.streams() > 0 && waited < limit;
       waited += std::chrono::milliseconds(20))
    co_await reactor::sleep_for(std::chrono::milliseconds(20));
  logs_.stop();
}

reactor::Task<void> Keeper::respawn_later(std::chrono::milliseconds delay) {
  std::stop_token stopping = stopping_.get_token();  // named: see OpAwaitable::with_stop
  if (!co_await reactor::sleep_for(delay).with_stop(stopping)) co_return;
  if (shutdown_requested_ || daemon_ > 0 || !request_) co_return;
  if (auto spawned = spawn_daemon(); !spawned) {
    say(spawned.error().what() + "; giving up");
    fronts_.ended(1);
    detach_front();
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
  tasks_.spawn(fronts_.run(stopping_.get_token()));
  // The front that started us asks at once; a keeper nobody asked for does not stay.
  tasks_.spawn(end_if_never_used(std::chrono::seconds(10)));
  while (!done_) {
    signalfd_siginfo info{};
    auto n =
        co_await reactor::read(signals.fd(), &info, sizeof info).with_stop(stopping_.get_token());
    if (!n) {
      if (!done_) say("read signalfd: " + n.error().message());
      break;
    }
    if (info.ssi_signo == SIGCHLD) {
      on_sigchld();
      end_if_idle();
    } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      terminated_ = true;
      if (daemon_ > 0)
        stop_daemon(static_cast<int>(info.ssi_signo));
      else
        finish(0);
    }
  }
  stopping_.request_stop();
  channel_stop_.request_stop();
  // Ended with nothing to keep: what the last containers wrote is still read to its end.
  if (terminated_)
    logs_.stop();
  else
    co_await drain_logs(std::chrono::seconds(5));
  co_await logs_.ended();
  co_await tasks_.join();
  co_return exit_status_;
}

}  // namespace

int run_keeper(const KeeperOptions& options) {
  // From the front; main() has made them close-on-exec, so corrald proper does not get them.
  init::UniqueFd listener(kKeeperListenFd), lock(kKeeperLockFd);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    std::perror("corrald-keeper: PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  ::prctl(PR_SET_NAME, "corrald-keeper", 0, 0, 0);
  ::signal(SIGPIPE, SIG_IGN);
  // It may outlive the front by long: it must not hold the directory it was started in.
  if (::chdir("/") < 0) std::perror("corrald-keeper: chdir /");
  auto journal = ExitJournal::open(keeper_dir(options.root) + "/exits.journal");
  if (!journal) {
    say(journal.error().what());
    return 1;
  }
  const std::string log_path = keeper_dir(options.root) + "/keeper.log";
  init::UniqueFd log(
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!log.valid()) {
    say("open " + log_path + ": " + std::strerror(errno));
    return 1;
  }
  int status = 0;
  {
    reactor::SignalSet signals{SIGTERM, SIGINT, SIGCHLD};
    reactor::Reactor reactor;
    Keeper keeper(options, std::move(*journal), std::move(listener), std::move(log));
    status = reactor.block_on(keeper.run(signals));
  }
  // Gone before the lock is (at our exit): a front that finds the lock free finds no socket.
  ::unlink(keeper_socket_path(options.root).c_str());
  return status;
}

}  // namespace corrald
