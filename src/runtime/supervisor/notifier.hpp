#pragma once
// Notifier: coroutines wait until something happens (a container exits, a queue drains).
// Owner-thread only, like everything on a reactor. notify_all() wakes every waiter through
// Reactor::post, never inline, so that a waiter that goes on to destroy the notifier's owner
// cannot pull the object out from under notify_all's caller.
//
// A waiter may pass a stop token: a stop request wakes it too (wait() then returns false), which
// is how a vanished client's pending `wait` or `events` request goes away.
#include <coroutine>
#include <list>
#include <optional>
#include <stop_token>

#include "reactor/reactor.hpp"

namespace corral::supervisor {

class Notifier {
 public:
  Notifier() = default;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier() {
    // Waiters still here are woken (as notified): their frames must not be left dangling.
    notify_all();
  }

  void notify_all() {
    for (Waiter* w : waiters_) {
      w->linked = false;
      wake(w);
    }
    waiters_.clear();
  }

  // co_await n.wait(token): true when notified, false when stopped.
  auto wait(std::stop_token token = {}) { return Awaiter{this, std::move(token)}; }

 private:
  struct Waiter {
    std::coroutine_handle<> handle;
    bool linked = false;
    bool woken = false;
    bool stopped = false;
  };
  static void wake(Waiter* w) {
    if (w->woken) return;
    w->woken = true;
    auto handle = w->handle;
    reactor::Reactor::require_current().post([handle] { handle.resume(); });
  }

  struct Awaiter {
    Notifier* owner;
    std::stop_token token;
    Waiter waiter{};
    std::list<Waiter*>::iterator position{};
    struct OnStop {
      Awaiter* self;
      void operator()() const noexcept {
        // Stops are requested on the owner thread in corral's daemon and library: no lock.
        if (self->waiter.woken) return;
        if (self->waiter.linked) {
          self->owner->waiters_.erase(self->position);
          self->waiter.linked = false;
        }
        self->waiter.stopped = true;
        Notifier::wake(&self->waiter);
      }
    };
    std::optional<std::stop_callback<OnStop>> on_stop;

    bool await_ready() const noexcept { return token.stop_requested(); }
    void await_suspend(std::coroutine_handle<> handle) {
      waiter.handle = handle;
      waiter.linked = true;
      position = owner->waiters_.insert(owner->waiters_.end(), &waiter);
      if (token.stop_possible()) on_stop.emplace(token, OnStop{this});
    }
    bool await_resume() {
      on_stop.reset();
      return !token.stop_requested() && !waiter.stopped;
    }
  };

  std::list<Waiter*> waiters_;
};

}  // namespace corral::supervisor
