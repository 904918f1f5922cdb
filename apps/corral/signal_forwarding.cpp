#include "apps/corral/signal_forwarding.hpp"

#include <sys/signalfd.h>

#include <stop_token>

#include "apps/corral/foreground_terminal.hpp"
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

reactor::Task<Expected<ExitRecord>> wait_in_foreground(reactor::Task<Expected<ExitRecord>> wait,
                                                       ForwardedSignals& signals,
                                                       SignalHandler signal_process,
                                                       ForegroundTerminal* terminal) {
  reactor::TaskScope output;
  reactor::TaskScope input;
  if (terminal) {
    output.spawn(terminal->relay_output());
    input.spawn(terminal->relay_input(input.token()));
  }
  SignalHandler handler = [&signal_process, terminal](int sig) {
    if (sig == SIGWINCH && terminal) {
      terminal->copy_window_size();  // the kernel tells the container's foreground group
      return;
    }
    signal_process(sig);
  };
  // Made outside the co_await: g++ 12 mishandles class temporaries in a co_await operand.
  auto waiting = wait_forwarding_signals(std::move(wait), signals, std::move(handler));
  auto exit = co_await std::move(waiting);
  input.request_stop();
  co_await input.join();
  co_await output.join();
  co_return exit;
}

Expected<ExitRecord> wait_forwarding_signals_blocking(Container& container,
                                                      ForwardedSignals& signals,
                                                      ForegroundTerminal* terminal) {
  reactor::Reactor reactor;
  // The init may be exiting already: a failed forward changes nothing.
  return reactor.block_on(wait_in_foreground(
      container.wait(), signals, [&container](int sig) { (void)container.signal(sig); }, terminal));
}

}  // namespace corral::cli
