#pragma once
// A foreground `run` or `exec` stands in for its process: the signals corral receives (Ctrl-C,
// a `kill` from an engine, a terminal resize) go on to the process, and corral exits with its
// status. The signals are blocked and read from a signalfd on the reactor, so none is lost
// between the start of corral and the start of the process: one arriving early waits in the
// signalfd and is forwarded once the process exists.
#include <functional>

#include "reactor/signals.hpp"
#include "reactor/task.hpp"
#include "runtime/container.hpp"
#include "runtime/container_state.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

// Blocks the forwarded signals (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
// SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGPWR, SIGSYS ...) in the
// calling thread for its lifetime. Make it before the process is started.
class ForwardedSignals {
 public:
  ForwardedSignals();
  reactor::SignalSet& set() { return set_; }

 private:
  reactor::SignalSet set_;
};

class ForegroundTerminal;

// What to do with one received signal (send it to the process, resize a terminal, ...).
using SignalHandler = std::function<void(int signal)>;

// Awaits `wait` while every signal read from `signals` goes to `handler`; returns the exit.
reactor::Task<Expected<ExitRecord>> wait_forwarding_signals(
    reactor::Task<Expected<ExitRecord>> wait, ForwardedSignals& signals, SignalHandler handler);

// Awaits `wait` in the foreground: signals go to `signal_process`; with `terminal` (corral
// relaying the process's pty) the pty is relayed meanwhile, SIGWINCH resizes it instead of
// being forwarded, and the process's last output is out before this returns.
reactor::Task<Expected<ExitRecord>> wait_in_foreground(reactor::Task<Expected<ExitRecord>> wait,
                                                       ForwardedSignals& signals,
                                                       SignalHandler signal_process,
                                                       ForegroundTerminal* terminal);

// Waits for the container's init on a reactor of its own, forwarding signals to the init. With
// `terminal` (run relaying the container's pty), the pty is relayed meanwhile, SIGWINCH resizes
// it instead of being forwarded, and the container's last output is out before this returns.
Expected<ExitRecord> wait_forwarding_signals_blocking(Container& container,
                                                      ForwardedSignals& signals,
                                                      ForegroundTerminal* terminal = nullptr);

}  // namespace corral::cli
