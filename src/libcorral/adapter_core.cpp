#include "libcorral/adapter_core.hpp"

#include <algorithm>
#include <cstdio>

#include "libcorral/event_subscription.hpp"

namespace corral::asio_detail {

bool AdapterCore::post(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  reactor_->post(std::move(fn));
  return true;
}

void AdapterCore::attach(reactor::Reactor& reactor, supervisor::Supervisor& sup) {
  std::lock_guard lock(mutex_);
  reactor_ = &reactor;
  supervisor_ = &sup;
  accepting_ = true;
}

bool AdapterCore::request_stop() {
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  accepting_ = false;
  // The last thing ever posted: everything handed over before it is spawned before serve()
  // wakes up, so the operations' join below covers it.
  reactor_->post([this] {
    stop_requested_ = true;
    stop_notifier_.notify_all();
  });
  return true;
}

void AdapterCore::detach() {
  std::lock_guard lock(mutex_);
  reactor_ = nullptr;
  supervisor_ = nullptr;
}

void AdapterCore::add_subscription(const std::shared_ptr<EventQueue>& queue) {
  if (queue->closed()) return;  // closed by its owner before it reached this thread
  queue->handle = supervisor_->subscribe([queue](const supervisor::Event& e) { queue->push(e); });
  subscriptions_.push_back(queue);
}

void AdapterCore::remove_subscription(const std::shared_ptr<EventQueue>& queue) {
  auto it = std::find(subscriptions_.begin(), subscriptions_.end(), queue);
  if (it == subscriptions_.end()) return;
  if (queue->handle) supervisor_->unsubscribe(*queue->handle);
  subscriptions_.erase(it);
}

reactor::Task<void> AdapterCore::serve(bool stop_containers) {
  while (!stop_requested_) co_await stop_notifier_.wait();
  // Waits end ("cancelled"); creates, starts and removes in flight run to their end.
  operations_.request_stop();
  try {
    co_await operations_.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral asio adapter: an operation failed at shutdown: %s\n", e.what());
  }
  for (const auto& queue : subscriptions_) {
    if (queue->handle) supervisor_->unsubscribe(*queue->handle);
    queue->close(Error(ErrorCode::SystemError, "next event: the supervisor stopped"));
  }
  subscriptions_.clear();
  co_await supervisor_->shutdown(stop_containers);
}

}  // namespace corral::asio_detail
