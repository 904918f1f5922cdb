#pragma once
// OpAwaitable: awaiting one Operation. The Operation lives inside the awaitable, which lives in
// the awaiting coroutine's frame for the whole suspension, so nothing is allocated per operation.
//
//   auto n = co_await reactor::read(fd, buf, len).with_stop(token).with_timeout(1s);
//
// A stop request or an expired timeout cancels the operation, and the awaiter still waits for
// the operation's own final completion before it resumes: the kernel never writes into a frame
// that is gone. A cancelled operation yields ECANCELED, an expired timeout ETIME.
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <optional>
#include <stop_token>

#include "reactor/operation.hpp"
#include "reactor/reactor.hpp"
#include "reactor/result.hpp"

namespace corral::reactor {

struct NoPayload {};

template <class Out, class Payload = NoPayload>
class [[nodiscard]] OpAwaitable {
 public:
  using Mapper = Out (*)(const Operation&, Payload&);

  OpAwaitable(const Operation& op, Mapper mapper) : op_(op), mapper_(mapper) {}
  // Movable only before it is awaited (the builders below return new prvalues).
  OpAwaitable(OpAwaitable&& other) noexcept
      : op_(other.op_),
        mapper_(other.mapper_),
        payload_(other.payload_),
        stop_(std::move(other.stop_)) {}
  OpAwaitable& operator=(OpAwaitable&&) = delete;

  // Pass a named token inside an if or while condition: g++ 12 miscompiles
  // `if (!co_await op.with_stop(source.get_token()))` (a temporary token in a condition), and
  // the stop never reaches the operation. `auto r = co_await ...;` with a temporary is fine.
  OpAwaitable with_stop(std::stop_token token) && {
    stop_ = std::move(token);
    return std::move(*this);
  }
  // with_stop for a named awaitable, awaited by its name:
  //   auto poll = reactor::poll(fd, POLLIN);
  //   poll.stop_on(token);
  //   auto ready = co_await poll;
  // A coroutine that waits for long in great numbers (one per container) keeps one awaitable in
  // its frame this way, not the builder's and its stopped copy (g++ gives each its own room).
  // (`co_await poll.with_stop(token)` on an lvalue would copy it: g++ 12 copies an awaiter
  // returned by reference.)
  void stop_on(std::stop_token token) & { stop_ = std::move(token); }
  OpAwaitable with_timeout(std::chrono::nanoseconds timeout) && {
    op_.has_deadline = true;
    if (timeout.count() < 0) timeout = std::chrono::nanoseconds{0};
    op_.time.tv_sec = timeout.count() / 1'000'000'000;
    op_.time.tv_nsec = timeout.count() % 1'000'000'000;
    return std::move(*this);
  }

  // The operation itself: for wrappers that must cancel it on the owner thread (Reactor::cancel)
  // while it is in flight.
  Operation& operation() noexcept { return op_; }

  bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      op_.result = -ECANCELED;
      return true;
    }
    return false;
  }

  void await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    reactor_ = &Reactor::require_current();
    op_.owner = this;
    op_.complete = &OpAwaitable::on_complete;
    if constexpr (!std::is_same_v<Payload, NoPayload>) op_.extra = &payload_;
    reactor_->submit(op_);
    if (stop_.stop_possible()) stop_callback_.emplace(stop_, Canceller{this});
  }

  Out await_resume() {
    stop_callback_.reset();  // waits for a callback running on another thread
    if (op_.cancel_posted) reactor_->forget_cancel(op_);
    if (op_.timed_out && op_.result == -ECANCELED) op_.result = -ETIME;
    return mapper_(op_, payload_);
  }

 private:
  struct Canceller {
    OpAwaitable* self;
    void operator()() const noexcept { self->reactor_->cancel_from_any_thread(self->op_); }
  };

  static void on_complete(Operation& op) {
    auto* self = static_cast<OpAwaitable*>(op.owner);
    self->waiter_.resume();
  }

  Operation op_;
  Mapper mapper_;
  Payload payload_{};
  std::stop_token stop_;
  Reactor* reactor_ = nullptr;
  std::coroutine_handle<> waiter_;
  std::optional<std::stop_callback<Canceller>> stop_callback_;
};

}  // namespace corral::reactor
