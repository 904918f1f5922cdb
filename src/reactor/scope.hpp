#pragma once
// TaskScope: structured concurrency. Tasks spawned into a scope are owned by it; the scope can
// be asked to stop (its stop token is what spawned tasks should pass to their operations) and
// must be joined before it is destroyed. Destroying an unjoined scope with running tasks is a
// bug and aborts with a message rather than leaving coroutines that point at a dead frame.
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stop_token>

#include "reactor/task.hpp"

namespace corral::reactor {

class TaskScope {
 public:
  TaskScope() = default;
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;
  ~TaskScope() {
    if (active_ != 0) {
      std::fprintf(stderr, "corral reactor: TaskScope destroyed with %zu running tasks\n", active_);
      std::abort();
    }
  }

  // Starts `task` now, on the calling (owner) thread; it runs until its first suspension.
  void spawn(Task<void> task) {
    ++active_;
    run(this, std::move(task));
  }

  std::stop_token token() const { return stop_.get_token(); }
  std::stop_source& stop_source() { return stop_; }
  void request_stop() { stop_.request_stop(); }
  std::size_t active() const { return active_; }

  // Resumes when every spawned task has finished; rethrows the first exception one of them
  // threw (the others are counted, not lost silently: see failures()).
  auto join() {
    struct Awaiter {
      TaskScope* scope;
      bool await_ready() const noexcept { return scope->active_ == 0; }
      void await_suspend(std::coroutine_handle<> waiter) noexcept { scope->joiner_ = waiter; }
      void await_resume() const {
        if (scope->first_error_) std::rethrow_exception(std::exchange(scope->first_error_, {}));
      }
    };
    return Awaiter{this};
  }

  std::size_t failures() const { return failures_; }

 private:
  static DetachedCoroutine run(TaskScope* scope, Task<void> task) {
    try {
      co_await std::move(task);
    } catch (...) {
      if (!scope->first_error_) scope->first_error_ = std::current_exception();
      ++scope->failures_;
    }
    scope->task_finished();
  }

  void task_finished() {
    if (--active_ == 0 && joiner_) {
      // Nothing of this scope is touched after the resume: the joiner may destroy it.
      std::exchange(joiner_, {}).resume();
    }
  }

  std::size_t active_ = 0;
  std::size_t failures_ = 0;
  std::exception_ptr first_error_;
  std::coroutine_handle<> joiner_;
  std::stop_source stop_;
};

}  // namespace corral::reactor
