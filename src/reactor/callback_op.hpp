#pragma once
// CallbackOp: one operation whose completion calls a function instead of resuming a coroutine.
// For what waits in great numbers for a long time (a supervisor's wait for each container's
// exit): a coroutine frame per wait costs several times the 128-byte Operation, because g++
// gives every co_await of a coroutine its own room in the frame, for the frame's whole life.
//
// Owner thread only. Its owner must not destroy it while pending(); the callback may destroy it
// (and its owner): nothing touches it after the callback returns. A cancelled operation calls
// back with -ECANCELED (or with the result it had already reached).
#include "reactor/operation.hpp"

namespace corral::reactor {

class CallbackOp {
 public:
  // Gets the operation's syscall-style result (>= 0 or -errno).
  using Done = void (*)(void* context, int result);

  CallbackOp() = default;
  CallbackOp(const CallbackOp&) = delete;
  CallbackOp& operator=(const CallbackOp&) = delete;

  // Submits `op` (the Operation of a builder such as reactor::poll(fd, POLLIN), whose own
  // awaitable is never awaited; any buffer its `extra` needs is the caller's to provide).
  void start(const Operation& op, Done done, void* context);
  void cancel();
  bool pending() const { return op_.in_flight; }
  // The operation as submitted (for linking it where a cancel must find it).
  Operation& operation() { return op_; }

 private:
  static void on_complete(Operation& op);

  Operation op_;
  Done done_ = nullptr;
  void* context_ = nullptr;
};

}  // namespace corral::reactor
