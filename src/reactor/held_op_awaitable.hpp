#pragma once
// HeldOpAwaitable: an operation on a HeldFile (see file_table.hpp). It wraps the OpAwaitable of
// the same operation and adds what a held file needs:
// - the file is checked when awaited: a stale HeldFile fails with EBADF and reaches no kernel;
// - a direct slot is issued with IOSQE_FIXED_FILE;
// - while in flight the operation is linked to its FileTable entry, so release() can cancel it
//   and the slot (or fd) is not given back, nor reused, before the operation has completed.
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <stop_token>
#include <utility>

#include "reactor/held_file.hpp"
#include "reactor/op_awaitable.hpp"

namespace corral::reactor {
namespace detail {

class FileTableState;

// An operation's place in its FileTable entry's list of operations in flight (intrusive: no
// allocation per operation).
struct HeldOpLink {
  HeldFile file;
  Operation* op = nullptr;
  FileTableState* table = nullptr;  // set while linked
  HeldOpLink* prev = nullptr;
  HeldOpLink* next = nullptr;
};

// Whether `file` is held (and not being released) by the current reactor's FileTable.
bool held_file_is_live(const HeldFile& file);
// Links `link` (whose operation is `op`) to its entry; the file must be live.
void link_held_op(HeldOpLink& link, Operation& op);
// Unlinks a completed operation; finishes a release that waited for it.
void unlink_held_op(HeldOpLink& link);

}  // namespace detail

template <class Out>
class [[nodiscard]] HeldOpAwaitable {
 public:
  // Done without the kernel on an ordinary fd: returns a syscall-style result (>= 0 or -errno).
  using OrdinaryFn = int (*)(int fd);

  HeldOpAwaitable(OpAwaitable<Out> inner, const HeldFile& file, OrdinaryFn on_ordinary = nullptr)
      : inner_(std::move(inner)), on_ordinary_(on_ordinary) {
    link_.file = file;
    inner_.operation().fixed_file = file.is_direct();
  }
  // Movable only before it is awaited (like OpAwaitable).
  HeldOpAwaitable(HeldOpAwaitable&& other) noexcept
      : inner_(std::move(other.inner_)), on_ordinary_(other.on_ordinary_) {
    link_.file = other.link_.file;
  }
  HeldOpAwaitable& operator=(HeldOpAwaitable&&) = delete;

  HeldOpAwaitable with_stop(std::stop_token token) && {
    return {std::move(inner_).with_stop(std::move(token)), link_.file, on_ordinary_};
  }
  HeldOpAwaitable with_timeout(std::chrono::nanoseconds timeout) && {
    return {std::move(inner_).with_timeout(timeout), link_.file, on_ordinary_};
  }

  bool await_ready() {
    if (inner_.await_ready()) return true;  // already stopped: never submitted
    Operation& op = inner_.operation();
    if (!detail::held_file_is_live(link_.file)) {
      op.result = -EBADF;
      return true;
    }
    if (on_ordinary_ != nullptr && !link_.file.is_direct()) {
      op.result = on_ordinary_(link_.file.descriptor());
      return true;
    }
    return false;
  }

  void await_suspend(std::coroutine_handle<> waiter) {
    detail::link_held_op(link_, inner_.operation());
    inner_.await_suspend(waiter);
  }

  // Never submitted operations resume with the result await_ready put in the operation.
  Out await_resume() {
    Out out = inner_.await_resume();
    if (link_.table != nullptr) detail::unlink_held_op(link_);
    return out;
  }

 private:
  OpAwaitable<Out> inner_;
  OrdinaryFn on_ordinary_;
  detail::HeldOpLink link_;
};

}  // namespace corral::reactor
