#include "apps/corral/signal_forwarding.hpp"

#include <sys/signalfd.h>

#include <stop_token>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"

namespace corral::cli {
namespace {

// Reads signals until `stop`: the process has exited, so nothing is left to forward to.
reactor::Task<void> forward_until_stopped(int signal_fd, const SignalHandler& handler,
                                          std::stop_token stop) {
  for (;;) {
    signalfd_siginfo info{};
    auto n = co_await reactor::read(signal_fd, &info, sizeof info).with_stop(stop);
    if (!n || *n != sizeof info) co_return;
    handler(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace

ForwardedSignals::ForwardedSignals()
    : set_({SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT, SIGTSTP,
            SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGPWR, SIGSYS, SIGTRAP, SIGXCPU, SIGXFSZ}) {}

reactor::Task<Expected<ExitRecord>> wait_forwarding_signals(
    reactor::Task<Expected<ExitRecord>> wait, ForwardedSignals& signals, SignalHandler handler) {
  reactor::TaskScope scope;
  scope.spawn(forward_until_stopped(signals.set().fd(), handler, scope.token()));
  auto exit = co_await std::move(wait);
  scope.request_stop();
  co_await scope.join();
  co_return exit;
}

Expected<ExitRecord> wait_forwarding_signals_blocking(Container& container,
                                                      ForwardedSignals& signals) {
  reactor::Reactor reactor;
  return reactor.block_on(wait_forwarding_signals(container.wait(), signals, [&container](int sig) {
    // The init may be exiting already: a failed forward changes nothing.
    (void)container.signal(sig);
  }));
}

}  // namespace corral::cli
