// corrald: one process, one reactor thread, supervising many containers.
//
//   corrald [--root DIR] [--socket PATH] [--stop-containers] [--log-max-bytes N]
//           [--log-keep N] [--init PATH] [--respawn-delay MS] [--no-keeper]
//
// The process started is a front (front.hpp): it asks the root's keeper (keeper.hpp; started
// first if there is none, `--as-keeper`, internal) to run the daemon proper as the keeper's
// child (`--keeper-fd 3`, internal), and lives as long as that daemon. The keeper starts the
// daemon again after a crash, and outlives it while containers run. --no-keeper runs the daemon
// alone (a crash or a shutdown then loses log pipes and the statuses of exits meanwhile).
//
// SIGTERM/SIGINT (or a `shutdown` request) shut it down gracefully: the control socket closes,
// the containers keep running (unless --stop-containers), their logs and exits kept by the
// keeper, and a later corrald on the same root takes them over again.
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "control_server.hpp"
#include "front.hpp"
#include "keeper.hpp"
#include "keeper_link.hpp"
#include "keeper_protocol.hpp"
#include "orphan_reaper.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/signals.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace {

using namespace corral;
using namespace corrald;

struct Options {
  supervisor::SupervisorOptions supervisor;
  std::string socket;
  bool stop_containers = false;
  bool no_keeper = false;
  bool as_keeper = false;
  int keeper_fd = -1;
  std::chrono::milliseconds respawn_delay{1000};
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "corrald: %s\n"
               "usage: corrald [--root DIR] [--socket PATH] [--stop-containers]\n"
               "               [--log-max-bytes N] [--log-keep N] [--init PATH]\n"
               "               [--respawn-delay MS] [--no-keeper]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
      return argv[++i];
    };
    auto number = [&]() -> unsigned long long {
      std::string text = value();
      char* end = nullptr;
      errno = 0;
      unsigned long long n = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0)
        usage((arg + ": not a number: " + text).c_str());
      return n;
    };
    if (arg == "--root")
      options.supervisor.root = value();
    else if (arg == "--socket")
      options.socket = value();
    else if (arg == "--stop-containers")
      options.stop_containers = true;
    else if (arg == "--log-max-bytes")
      options.supervisor.log_rotation.max_bytes = number();
    else if (arg == "--log-keep")
      options.supervisor.log_rotation.rotated_kept = static_cast<unsigned>(number());
    else if (arg == "--init")
      options.supervisor.factory.init_path = value();
    else if (arg == "--no-keeper")
      options.no_keeper = true;
    else if (arg == "--respawn-delay")
      options.respawn_delay = std::chrono::milliseconds(number());
    else if (arg == kAsKeeperFlag)
      options.as_keeper = true;
    else if (arg == kKeeperFdFlag)
      options.keeper_fd = static_cast<int>(number());
    else if (arg == "--help" || arg == "-h")
      usage("help");
    else
      usage(("unknown argument " + arg).c_str());
  }
  if (options.socket.empty()) options.socket = options.supervisor.root + "/corrald.sock";
  return options;
}

reactor::Task<int> serve(Options& options, reactor::SignalSet& signals, KeeperLink* keeper) {
  if (keeper) keeper->configure(options.supervisor);
  auto opened = supervisor::Supervisor::open(options.supervisor);
  if (!opened) {
    std::fprintf(stderr, "corrald: %s\n", opened.error().what().c_str());
    co_return 1;
  }
  supervisor::Supervisor& sup = **opened;
  if (keeper) {
    // The exits that happened while no corrald ran come first: recovery needs them.
    auto backlog = co_await keeper->receive_backlog(sup);
    if (!backlog) {
      std::fprintf(stderr, "corrald: %s\n", backlog.error().what().c_str());
      co_await sup.shutdown(false);
      co_return 1;
    }
  }
  auto recovered = co_await sup.recover();
  if (!recovered)
    std::fprintf(stderr, "corrald: %s\n", recovered.error().what().c_str());
  else if (*recovered > 0)
    std::fprintf(stderr, "corrald: recovered %zu containers\n", *recovered);

  auto server = ControlServer::listen(options.socket);
  if (!server) {
    std::fprintf(stderr, "corrald: %s\n", server.error().what().c_str());
    co_await sup.shutdown(false);
    co_return 1;
  }
  std::stop_source stop;
  bool stop_containers = options.stop_containers;
  auto on_shutdown = [&](bool stop_them) {
    stop_containers = stop_containers || stop_them;
    stop.request_stop();
  };
  // Never an init the supervisor still has to reap: its status is recorded first, and the
  // recording may take longer than the reaper's settle time in an exit storm.
  OrphanReaper reaper([&sup] { return sup.unreaped_inits(); });
  reactor::TaskScope tasks;
  tasks.spawn(server->serve(sup, on_shutdown, stop.get_token()));
  tasks.spawn(reaper.run(stop.get_token()));
  if (keeper) tasks.spawn(keeper->run(sup, stop.get_token(), [&stop] { stop.request_stop(); }));
  std::fprintf(stderr, "corrald: serving %s on %s (root %s)\n",
               reactor::Reactor::require_current().backend_kind() == reactor::BackendKind::IoUring
                   ? "io_uring"
                   : "epoll",
               options.socket.c_str(), options.supervisor.root.c_str());

  // Signals: a signalfd read on the ring, cancelled at shutdown.
  while (!stop.stop_requested()) {
    signalfd_siginfo info{};
    auto n = co_await reactor::read(signals.fd(), &info, sizeof info).with_stop(stop.get_token());
    if (!n) break;
    if (info.ssi_signo == SIGCHLD) {
      reaper.on_sigchld();
    } else {
      std::fprintf(stderr, "corrald: %s: shutting down\n", ::strsignal(int(info.ssi_signo)));
      stop.request_stop();
    }
  }
  co_await tasks.join();
  co_await sup.shutdown(stop_containers);
  std::size_t running = 0;
  for (const auto& info : sup.list()) running += info.pid != 0 ? 1 : 0;
  std::fprintf(stderr, "corrald: stopped; %zu containers supervised, %zu of them left running\n",
               sup.size(), running);
  co_return 0;
}

}  // namespace

// Our start: stdin, stdout and stderr open (/dev/null for a closed one, so that no descriptor we
// open lands there and is passed on as one of them), and every other inherited descriptor
// close-on-exec (those we use stay open; none reaches what we start unless passed on purpose).
void tidy_inherited_descriptors() {
  for (int fd = 0; fd < 3; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) {
      int null = ::open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
      }
    }
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

int main(int argc, char** argv) {
  tidy_inherited_descriptors();
  Options options = parse_options(argc, argv);
  // Thousands of containers: the soft descriptor limit (often 1,024) up to the hard one.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (options.as_keeper) return run_keeper(KeeperOptions{options.supervisor.root});
  if (!options.no_keeper && options.keeper_fd < 0) {
    FrontOptions front;
    front.root = std::filesystem::absolute(options.supervisor.root).lexically_normal().string();
    front.daemon_argv.assign(argv, argv + argc);
    front.respawn_delay = options.respawn_delay;
    return run_front(front);
  }
  std::unique_ptr<KeeperLink> link;
  if (options.keeper_fd >= 0) {
    // The keeper's end closes when it dies: then stop too (nobody would read the logs).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    link = std::make_unique<KeeperLink>(options.keeper_fd);
  }
  // Orphans below us become our children, not PID 1's.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    std::perror("corrald: PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  reactor::SignalSet signals{SIGTERM, SIGINT, SIGCHLD};
  reactor::Reactor reactor;
  return reactor.block_on(serve(options, signals, link.get()));
}
