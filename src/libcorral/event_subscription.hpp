#pragma once
// EventSubscription: the supervisor's events (created, started, exited, oom, restarted,
// deleted) as an Asio-style stream: call async_next_event(token) again after each completion.
//
// Events are queued from the moment subscribe() was called (calls from one thread reach the
// reactor in order, so a subscribe() made before an async_create() sees that container's
// "created"). The queue holds at most `capacity` events; when a slow reader lets it overflow,
// the oldest are dropped and the next async_next_event completes with an error that says how
// many were lost, after which the stream goes on.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>

#include "libcorral/adapter_core.hpp"
#include "libcorral/completion.hpp"
#include "runtime/supervisor/event.hpp"

namespace corral {

namespace asio_detail {

// Shared by the subscription (callers' threads) and the supervisor's subscriber (reactor
// thread); every member is behind the mutex except `handle`, which is reactor-thread only.
class EventQueue {
 public:
  explicit EventQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  void push(const supervisor::Event& event);  // reactor thread
  // Any thread: completes `next` now (posted to its executor) or keeps it until an event.
  void next(std::shared_ptr<Completion<supervisor::Event>> next);
  // Any thread: completes the pending `next`, if it is `which`, with a cancellation error.
  void cancel(const Completion<supervisor::Event>* which);
  // Any thread: no more events; a pending and every later next() get `reason`.
  void close(Error reason);
  bool closed() const;

  std::optional<std::uint64_t> handle;  // the Supervisor's subscriber handle, reactor thread

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::deque<supervisor::Event> events_;
  std::uint64_t dropped_ = 0;
  std::shared_ptr<Completion<supervisor::Event>> pending_;
  std::optional<Error> closed_;
};

}  // namespace asio_detail

class EventSubscription {
 public:
  EventSubscription(std::weak_ptr<asio_detail::AdapterCore> core,
                    std::shared_ptr<asio_detail::EventQueue> queue, asio::any_io_executor executor)
      : core_(std::move(core)), queue_(std::move(queue)), executor_(std::move(executor)) {}
  EventSubscription(EventSubscription&&) noexcept = default;
  EventSubscription& operator=(EventSubscription&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::move(other.core_);
      queue_ = std::move(other.queue_);
      executor_ = std::move(other.executor_);
    }
    return *this;
  }
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;
  ~EventSubscription() { close(); }

  // Completion signature void(corral::Expected<supervisor::Event>). One at a time: a second
  // call while one is pending completes with an error. An error also comes when the
  // subscription or the adapter is closed, when events were dropped (see above), and when the
  // handler's cancellation slot is emitted.
  template <class CompletionToken>
  auto async_next_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(Expected<supervisor::Event>)>(
        [this](auto handler) {
          using Handler = decltype(handler);
          auto slot = asio::get_associated_cancellation_slot(handler);
          auto completion = std::make_shared<
              asio_detail::HandlerCompletion<supervisor::Event, Handler, asio::any_io_executor>>(
              std::move(handler), executor_, "next event");
          if (!queue_) {
            completion->complete(
                fail(Error(ErrorCode::SystemError, "next event: the subscription was moved from")));
            return;
          }
          if (slot.is_connected()) {
            std::weak_ptr<asio_detail::EventQueue> queue = queue_;
            const asio_detail::Completion<supervisor::Event>* which = completion.get();
            slot.assign([queue, which](asio::cancellation_type) {
              if (auto q = queue.lock()) q->cancel(which);
            });
          }
          queue_->next(std::move(completion));
        },
        token);
  }

  // Stops the subscription (also done by the destructor); a pending async_next_event completes
  // with an error. Any thread.
  void close();

 private:
  std::weak_ptr<asio_detail::AdapterCore> core_;
  std::shared_ptr<asio_detail::EventQueue> queue_;
  asio::any_io_executor executor_;
};

}  // namespace corral
