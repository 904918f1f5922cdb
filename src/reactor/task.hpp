#pragma once
// Task<T>: a lazy coroutine. Nothing runs until it is awaited; its result is a value or the
// exception it threw (errors on hot paths are values: Task<Result<T>>).
//
// Awaiting a task starts it inline. If it finishes before suspending, the awaiter continues
// without a new stack frame (await_suspend returns false); if it suspends, it later resumes its
// awaiter by symmetric transfer from final_suspend. g++ 12 does not turn symmetric transfer into
// a tail call at -O0 or under ASan, so relying on it alone would grow the stack by one frame per
// synchronously completed await: a loop of a million of them would overflow.
#include <coroutine>
#include <exception>
#include <optional>
#include <utility>
#include <variant>

namespace corral::reactor {

template <class T = void>
class Task;

namespace detail {

class TaskPromiseBase {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      TaskPromiseBase& promise = self.promise();
      if (promise.started_inline_) {
        // Still inside the awaiter's await_suspend: let it continue the awaiter by returning false.
        promise.finished_inline_ = true;
        return std::noop_coroutine();
      }
      return promise.continuation_ ? promise.continuation_ : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  // Starts the coroutine `self` on behalf of `awaiting`; true if `awaiting` must stay suspended.
  bool start(std::coroutine_handle<> self, std::coroutine_handle<> awaiting) {
    continuation_ = awaiting;
    started_inline_ = true;
    self.resume();
    started_inline_ = false;
    return !finished_inline_;
  }

 private:
  std::coroutine_handle<> continuation_;
  bool started_inline_ = false;
  bool finished_inline_ = false;
};

template <class T>
class TaskPromise : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& value) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class TaskPromise<void> : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void take() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> handle;
      bool await_ready() const noexcept { return !handle || handle.done(); }
      bool await_suspend(std::coroutine_handle<> awaiting) {
        return handle.promise().start(handle, awaiting);
      }
      T await_resume() { return handle.promise().take(); }
    };
    return Awaiter{handle_};
  }

 private:
  void reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<TaskPromise<T>>::from_promise(*this)};
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<TaskPromise<void>>::from_promise(*this)};
}
}  // namespace detail

// A coroutine that starts at once and frees itself when done; the building block of scopes and
// combinators, which own the bookkeeping around it.
struct DetachedCoroutine {
  struct promise_type {
    DetachedCoroutine get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // Callers catch everything inside; an escape here is a bug in corral itself.
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

}  // namespace corral::reactor
