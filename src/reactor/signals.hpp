#pragma once
// SignalSet: signals delivered through a signalfd that the ring reads, instead of handlers.
//
// The signals are blocked in the calling thread; block them before starting other threads (so
// that they inherit the mask) or they may be delivered to a thread that never reads the fd. A
// blocked mask survives execve, so children must not inherit it: ChildProcess resets the mask
// and every disposition before it execs.
#include <signal.h>

#include <initializer_list>

#include "reactor/result.hpp"
#include "reactor/task.hpp"

namespace corral::reactor {

class SignalSet {
 public:
  explicit SignalSet(std::initializer_list<int> signals);
  ~SignalSet();
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;

  // The next signal delivered: its number.
  Task<Result<int>> next();
  int fd() const { return fd_; }

 private:
  sigset_t mask_{};
  sigset_t previous_mask_{};
  int fd_ = -1;
};

// Sets every signal disposition to default and empties the mask, in a child just before exec.
// Async-signal-safe: only system calls.
void reset_signals_for_exec() noexcept;

}  // namespace corral::reactor
