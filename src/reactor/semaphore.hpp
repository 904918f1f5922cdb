#pragma once
// AsyncSemaphore: bounds how many coroutines do something at once (open files, say, under a
// descriptor limit) without blocking the thread. Owner-thread only, like everything on a
// reactor. Waiters are woken in FIFO order.
#include <coroutine>
#include <cstddef>
#include <deque>
#include <utility>

namespace corral::reactor {

class AsyncSemaphore {
 public:
  explicit AsyncSemaphore(std::size_t permits) : available_(permits) {}
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  // co_await sem.acquire() returns a guard that releases the permit when it goes away.
  class Permit {
   public:
    explicit Permit(AsyncSemaphore* owner) : owner_(owner) {}
    Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Permit& operator=(Permit&&) = delete;
    ~Permit() {
      if (owner_ != nullptr) owner_->release();
    }

   private:
    AsyncSemaphore* owner_;
  };

  auto acquire() {
    struct Awaiter {
      AsyncSemaphore* sem;
      bool await_ready() const noexcept {
        if (sem->available_ > 0) {
          --sem->available_;
          return true;
        }
        return false;
      }
      void await_suspend(std::coroutine_handle<> waiter) { sem->waiters_.push_back(waiter); }
      Permit await_resume() const noexcept { return Permit(sem); }
    };
    return Awaiter{this};
  }

  std::size_t available() const { return available_; }

 private:
  void release() {
    if (waiters_.empty()) {
      ++available_;
      return;
    }
    // Hand the permit straight to the next waiter.
    std::coroutine_handle<> next = waiters_.front();
    waiters_.pop_front();
    next.resume();
  }

  std::size_t available_;
  std::deque<std::coroutine_handle<>> waiters_;
};

}  // namespace corral::reactor
