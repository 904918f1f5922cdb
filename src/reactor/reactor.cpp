#include "reactor/reactor.hpp"

#include <cstdio>
#include <cstdlib>

namespace corral::reactor {
namespace {
thread_local Reactor* current_reactor = nullptr;
}

Reactor::Reactor(ReactorOptions options) : owner_(std::this_thread::get_id()) {
  if (current_reactor != nullptr) {
    throw std::logic_error("corral reactor: this thread already owns a reactor");
  }
  if (options.backend != BackendKind::Epoll) {
    backend_ = make_uring_backend(options.queue_depth, fallback_reason_);
    if (backend_ == nullptr && options.backend == BackendKind::IoUring) {
      throw std::runtime_error("corral reactor: cannot use io_uring: " + fallback_reason_);
    }
  }
  if (backend_ != nullptr) {
    kind_ = BackendKind::IoUring;
  } else {
    if (options.backend == BackendKind::Auto) {
      std::fprintf(stderr, "corral reactor: %s; falling back to epoll (slower)\n",
                   fallback_reason_.c_str());
    }
    backend_ = make_epoll_backend();
    kind_ = BackendKind::Epoll;
  }
  current_reactor = this;
}

Reactor::~Reactor() {
  if (in_flight_ != 0) {
    std::fprintf(stderr, "corral reactor: destroyed with %zu operations in flight\n", in_flight_);
    std::abort();
  }
  backend_.reset();
  if (current_reactor == this) current_reactor = nullptr;
}

Reactor* Reactor::current() noexcept {
  return current_reactor;
}

Reactor& Reactor::require_current() {
  if (current_reactor == nullptr) {
    std::fprintf(stderr,
                 "corral reactor: an operation was awaited on a thread without a reactor\n");
    std::abort();
  }
  return *current_reactor;
}

void Reactor::assert_owner(const char* what) const {
  if (!on_owner_thread()) {
    std::fprintf(stderr, "corral reactor: %s called from a thread that does not own the reactor\n",
                 what);
    std::abort();
  }
}

void Reactor::submit(Operation& op) {
  assert_owner("submit");
  for (Operation* o = &op; o != nullptr; o = o->linked_next) {
    ++in_flight_;
    if (observer_ != nullptr) observer_(observer_context_, *o);
  }
  backend_->submit(op);
}

void Reactor::cancel(Operation& op) {
  assert_owner("cancel");
  if (op.in_flight) backend_->cancel(op);
}

int Reactor::register_direct_table(unsigned slots) {
  assert_owner("register_direct_table");
  return backend_->register_direct_table(slots);
}

int Reactor::set_direct_slot(unsigned slot, int fd) {
  assert_owner("set_direct_slot");
  return backend_->set_direct_slot(slot, fd);
}

int Reactor::unregister_direct_table() {
  assert_owner("unregister_direct_table");
  return backend_->unregister_direct_table();
}

void Reactor::cancel_from_any_thread(Operation& op) {
  if (on_owner_thread()) {
    cancel(op);
    return;
  }
  {
    std::lock_guard lock(posted_mutex_);
    op.cancel_posted = true;
    remote_cancels_.push_back(&op);
  }
  has_posted_.store(true, std::memory_order_release);
  backend_->wake();
}

void Reactor::forget_cancel(Operation& op) {
  // Runs on the owner thread, as does drain_posted: if the cancel is no longer queued it was
  // already issued, and issuing one for a finished operation is harmless to the kernel.
  std::lock_guard lock(posted_mutex_);
  std::erase(remote_cancels_, &op);
  op.cancel_posted = false;
}

void Reactor::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  has_posted_.store(true, std::memory_order_release);
  backend_->wake();
}

void Reactor::request_stop() {
  stop_requested_.store(true, std::memory_order_release);
  backend_->wake();
}

void Reactor::drain_posted() {
  if (!has_posted_.exchange(false, std::memory_order_acquire)) return;
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(posted_mutex_);
    work.swap(posted_);
    for (Operation* op : remote_cancels_) {
      op->cancel_posted = false;
      if (op->in_flight) backend_->cancel(*op);
    }
    remote_cancels_.clear();
  }
  for (auto& fn : work) fn();
}

void Reactor::run_step(bool block) {
  drain_posted();
  int completed = backend_->run_once(block && !has_posted_.load(std::memory_order_acquire));
  in_flight_ -= static_cast<std::size_t>(completed);
  drain_posted();
}

int Reactor::poll_once() {
  assert_owner("poll_once");
  std::size_t before = in_flight_;
  run_step(false);
  return static_cast<int>(before - in_flight_);
}

void Reactor::run() {
  assert_owner("run");
  stop_requested_.store(false, std::memory_order_release);
  while (!stop_requested_.load(std::memory_order_acquire)) run_step(true);
}

}  // namespace corral::reactor
