#include "libcorral/event_subscription.hpp"

#include <string>

namespace corral {
namespace asio_detail {

void EventQueue::push(const supervisor::Event& event) {
  std::shared_ptr<Completion<supervisor::Event>> waiting;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (pending_ && events_.empty() && dropped_ == 0) {
      waiting = std::move(pending_);
    } else {
      if (events_.size() >= capacity_) {
        events_.pop_front();
        ++dropped_;
      }
      events_.push_back(event);
      return;
    }
  }
  // Outside the lock: complete() posts to the handler's executor, which may run it at once on
  // another thread, and that handler may call next() again.
  waiting->complete(event);
}

void EventQueue::next(std::shared_ptr<Completion<supervisor::Event>> next) {
  Expected<supervisor::Event> answer = fail(Error());
  {
    std::lock_guard lock(mutex_);
    if (dropped_ > 0) {
      answer = fail(
          Error(ErrorCode::SystemError, "next event: " + std::to_string(dropped_) +
                                            " events were dropped (the subscription's queue of " +
                                            std::to_string(capacity_) + " overflowed)"));
      dropped_ = 0;
    } else if (!events_.empty()) {
      answer = std::move(events_.front());
      events_.pop_front();
    } else if (closed_) {
      answer = fail(*closed_);
    } else if (pending_) {
      answer = fail(
          Error(ErrorCode::SystemError, "next event: another async_next_event is already pending"));
    } else {
      pending_ = std::move(next);
      return;
    }
  }
  next->complete(std::move(answer));
}

void EventQueue::cancel(const Completion<supervisor::Event>* which) {
  std::shared_ptr<Completion<supervisor::Event>> cancelled;
  {
    std::lock_guard lock(mutex_);
    if (!pending_ || pending_.get() != which) return;
    cancelled = std::move(pending_);
  }
  cancelled->complete(fail(Error(ErrorCode::SystemError, "next event: cancelled")));
}

void EventQueue::close(Error reason) {
  std::shared_ptr<Completion<supervisor::Event>> waiting;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = reason;
    waiting = std::move(pending_);
  }
  if (waiting) waiting->complete(fail(std::move(reason)));
}

bool EventQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_.has_value();
}

}  // namespace asio_detail

void EventSubscription::close() {
  if (!queue_) return;
  queue_->close(Error(ErrorCode::SystemError, "next event: the subscription was closed"));
  if (auto core = core_.lock()) {
    // If the adapter is stopping, its own shutdown unsubscribes every queue.
    (void)core->post([core, queue = queue_] { core->remove_subscription(queue); });
  }
  queue_.reset();
  core_.reset();
}

}  // namespace corral
