#pragma once
// HeldCallbackOp: an operation on a HeldFile (see file_table.hpp) that calls a function when it
// completes instead of resuming a coroutine. For objects that wait on thousands of files at once
// (the keeper's log pipes): a coroutine frame per wait costs several times the Operation it
// holds, because g++ gives every co_await of a coroutine its own room in the frame.
//
// It keeps the HeldFile rules of HeldOpAwaitable: a stale file fails at start() without reaching
// the kernel, a direct slot is issued with IOSQE_FIXED_FILE, and while in flight the operation is
// linked to its FileTable entry, so release() cancels it and the slot is not reused before it
// has completed. Owner thread only. Its owner must not destroy it while pending(); the callback
// may destroy it (and its owner): nothing touches it after the callback returns.
#include <utility>

#include "reactor/callback_op.hpp"
#include "reactor/held_file.hpp"
#include "reactor/held_op_awaitable.hpp"
#include "reactor/operation.hpp"

namespace corral::reactor {

class HeldCallbackOp {
 public:
  // Gets the operation's syscall-style result (>= 0 or -errno; -ECANCELED once cancelled).
  using Done = void (*)(void* context, int result);

  HeldCallbackOp() = default;
  HeldCallbackOp(const HeldCallbackOp&) = delete;
  HeldCallbackOp& operator=(const HeldCallbackOp&) = delete;

  // Submits `op` (the Operation of a builder such as reactor::poll(file, POLLIN), whose own
  // awaitable is never awaited) on `file`. False, and nothing submitted nor called, when the file
  // is stale or being released.
  bool start(Operation op, const HeldFile& file, Done done, void* context);
  // Cancels the operation in flight, if any; its callback still comes, with -ECANCELED (or with
  // the result it had already reached).
  void cancel() { inner_.cancel(); }
  bool pending() const { return inner_.pending(); }

 private:
  static void on_complete(void* self, int result);

  CallbackOp inner_;
  detail::HeldOpLink link_;
  Done done_ = nullptr;
  void* context_ = nullptr;
};

}  // namespace corral::reactor
