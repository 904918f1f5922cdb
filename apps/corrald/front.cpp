#include "front.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "init/unique_fd.hpp"
#include "keeper_protocol.hpp"
#include "private_socket.hpp"
#include "runtime/fd_passing.hpp"
#include "spawn_corrald.hpp"

extern char** environ;

namespace corrald {

using namespace corral;
using nlohmann::json;

namespace {

// What one attempt to reach a keeper came to.
enum class Attempt { Serving, Retry, Failed };

// A keeper that is ending (or starting) drops a connection in these ways: try again.
bool keeper_was_ending(int err) {
  return err == ENOENT || err == ECONNREFUSED || err == ECONNRESET || err == ENOTCONN ||
         err == EPIPE;
}

void complain(const std::string& text) {
  std::fprintf(stderr, "corrald: %s\n", text.c_str());
}

// Starts a keeper when none holds the root's lock (a keeper holds it all its life); `started` is
// its pid then.
Expected<void> start_keeper_if_none(const std::string& root, pid_t& started) {
  const std::string lock_path = keeper_lock_path(root);
  init::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return fail(Error::from_errno(errno, "open the keeper's lock", lock_path));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return {};  // a keeper lives (or another front starts one)
    return fail(Error::from_errno(errno, "flock the keeper's lock", lock_path));
  }
  // Ours: a socket left there is a dead keeper's.
  const std::string socket_path = keeper_socket_path(root);
  ::unlink(socket_path.c_str());
  auto listener = listen_private(socket_path, SOCK_SEQPACKET, "keeper socket");
  if (!listener) return fail(std::move(listener).error());
  // The keeper gets the lock's open file (and so the lock) and the socket; ours close here.
  // Not our stdin or stdout: it outlives us, and whoever reads our output waits for its end.
  // Our stderr until the first front attaches (then that front's, then its own log).
  init::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return fail(Error::from_errno(errno, "open", "/dev/null"));
  const PassedFd passed[] = {{null.get(), STDIN_FILENO},
                             {null.get(), STDOUT_FILENO},
                             {STDERR_FILENO, STDERR_FILENO},
                             {listener->get(), kKeeperListenFd},
                             {lock.get(), kKeeperLockFd}};
  std::string self = own_executable();
  auto spawned =
      spawn_corrald(self, {self, kAsKeeperFlag, "--root", root}, passed, "", nullptr, true);
  if (!spawned) {
    ::unlink(socket_path.c_str());
    return fail(std::move(spawned).error());
  }
  started = *spawned;
  return {};
}

// The first signal waiting on `signals` (0 when none).
int pending_signal(int signals) {
  pollfd fd{signals, POLLIN, 0};
  signalfd_siginfo info{};
  if (::poll(&fd, 1, 0) == 1 && ::read(signals, &info, sizeof info) == sizeof info)
    return static_cast<int>(info.ssi_signo);
  return 0;
}

// Asks the keeper to serve. `status` is ours when it comes to Failed.
Attempt ask_to_serve(const FrontOptions& options, int signals, init::UniqueFd& link, int& status) {
  auto connected = connect_unix(keeper_socket_path(options.root), SOCK_SEQPACKET, "keeper socket");
  if (!connected) {
    if (keeper_was_ending(connected.error().cause().errno_value)) return Attempt::Retry;
    complain(connected.error().what());
    return Attempt::Failed;
  }
  std::error_code ec;
  std::vector<std::string> env;
  for (char** variable = environ; variable && *variable; ++variable) env.emplace_back(*variable);
  json request{{"op", "serve"},
               {"exe", own_executable()},
               {"argv", options.daemon_argv},
               {"env", env},
               {"cwd", std::filesystem::current_path(ec).string()},
               {"respawn_delay_ms", options.respawn_delay.count()}};
  std::string text = request.dump();
  if (text.size() > kFrontMessageMax) {
    complain("the arguments and environment take " + std::to_string(text.size()) +
             " bytes; at most " + std::to_string(kFrontMessageMax) + " go to the keeper");
    return Attempt::Failed;
  }
  // Our stdin, stdout and stderr for corrald (main() opened /dev/null on any that was closed).
  const int fds[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  if (auto sent = send_with_fds(connected->get(), text, fds, "ask the keeper to serve"); !sent) {
    if (keeper_was_ending(sent.error().cause().errno_value)) return Attempt::Retry;
    complain(sent.error().what());
    return Attempt::Failed;
  }
  // The answer, or a signal: a front being stopped does not wait for a keeper that is stuck.
  pollfd waiting[] = {{connected->get(), POLLIN, 0}, {signals, POLLIN, 0}};
  int ready;
  do {
    ready = ::poll(waiting, 2, 30'000);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) {
    complain("the keeper did not answer within 30 s on " + keeper_socket_path(options.root));
    return Attempt::Failed;
  }
  if (int signal = pending_signal(signals); signal != 0) {
    status = 128 + signal;  // our end closes: a corrald started for us is stopped
    return Attempt::Failed;
  }
  auto reply = receive_with_fds(connected->get(), kFrontMessageMax, "the keeper's answer");
  if (!reply) {
    if (keeper_was_ending(reply.error().cause().errno_value)) return Attempt::Retry;
    complain(reply.error().what());
    return Attempt::Failed;
  }
  if (reply->data.empty()) return Attempt::Retry;  // it was ending as we came
  auto j = json::parse(reply->data, nullptr, false);
  std::string op = j.is_object() ? j.value("op", "") : "";
  if (op == "serving") {
    link = std::move(*connected);
    return Attempt::Serving;
  }
  if (op == "busy") return Attempt::Retry;
  complain(op == "refused" && j["error"].is_string()
               ? j["error"].get<std::string>()
               : "malformed answer from the keeper: " + reply->data.substr(0, 200));
  return Attempt::Failed;
}

// Until corrald ends: our signals go to the keeper, its "ended" gives our status.
int follow(int link, int signals) {
  for (;;) {
    pollfd fds[] = {{link, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      complain(std::string("poll: ") + std::strerror(errno));
      return 1;
    }
    if (int signal = (fds[1].revents & POLLIN) ? pending_signal(signals) : 0; signal != 0) {
      std::string message = json{{"op", "signal"}, {"signal", signal}}.dump();
      (void)::send(link, message.data(), message.size(), MSG_NOSIGNAL);
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto message = receive_with_fds(link, kFrontMessageMax, "the keeper's link");
      if (!message || message->data.empty()) {
        complain("the keeper ended without saying how corrald ended");
        return 1;
      }
      auto j = json::parse(message->data, nullptr, false);
      if (j.is_object() && j.value("op", "") == "ended" && j["status"].is_number_integer())
        return j["status"].get<int>();
      complain("malformed message from the keeper (dropped): " + message->data.substr(0, 200));
    }
  }
}

}  // namespace

int run_front(const FrontOptions& options) {
  for (const std::string& dir : {options.root, keeper_dir(options.root)})
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
      complain("mkdir " + dir + ": " + std::strerror(errno));
      return 1;
    }
  // Blocked from here, read from a signalfd; corrald proper and the keeper unblock them.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&forwarded, signal);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  init::UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!signals.valid()) {
    complain(std::string("signalfd: ") + std::strerror(errno));
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  init::UniqueFd link;
  pid_t our_keeper = -1;  // the keeper we started, if we did
  // A keeper that is starting or ending, or whose last corrald is stopping (up to its 10 s
  // grace for containers), is waited for: 600 tries, 50 ms apart.
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (int signal = pending_signal(signals.get()); signal != 0) return 128 + signal;
    if (auto started = start_keeper_if_none(options.root, our_keeper); !started) {
      complain(started.error().what());
      return 1;
    }
    int status = 1;
    switch (ask_to_serve(options, signals.get(), link, status)) {
      case Attempt::Serving:
        return follow(link.get(), signals.get());
      case Attempt::Failed:
        return status;
      case Attempt::Retry:
        break;
    }
    // A keeper we started that died at once said why on our stderr: no second one.
    int keeper_status = 0;
    if (our_keeper > 0 && ::waitpid(our_keeper, &keeper_status, WNOHANG) == our_keeper) {
      complain("the keeper exited as it started (" +
               std::string(WIFEXITED(keeper_status)
                               ? "status " + std::to_string(WEXITSTATUS(keeper_status))
                               : std::string("signal ") + ::sigabbrev_np(WTERMSIG(keeper_status))) +
               ")");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  complain("no keeper served on " + keeper_socket_path(options.root));
  return 1;
}

}  // namespace corrald
