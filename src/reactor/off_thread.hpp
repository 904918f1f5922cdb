#pragma once
// off_thread(fn): runs a blocking call that has no io_uring opcode (syncfs, for one) on a
// thread of its own, and resumes the awaiting coroutine on its reactor when it returns, so the
// loop keeps serving everything else meanwhile.
//
// The thread is detached and touches only this awaitable (alive while its coroutine waits) and
// the reactor's post(): the awaiting coroutine must be joined (a TaskScope, run_until) before
// the reactor goes away. Rare, slow calls only: a thread is started per call.
#include <coroutine>
#include <thread>
#include <type_traits>
#include <utility>

#include "reactor/reactor.hpp"

namespace corral::reactor {

template <class Fn>
class [[nodiscard]] OffThread {
 public:
  using Value = std::invoke_result_t<Fn&>;
  explicit OffThread(Fn fn) : fn_(std::move(fn)) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    Reactor* reactor = &Reactor::require_current();
    std::thread([this, reactor, waiter] {
      value_ = fn_();
      reactor->post([waiter] { waiter.resume(); });
    }).detach();
  }
  Value await_resume() { return std::move(value_); }

 private:
  Fn fn_;
  Value value_{};
};

template <class Fn>
OffThread<Fn> off_thread(Fn fn) {
  return OffThread<Fn>(std::move(fn));
}

}  // namespace corral::reactor
