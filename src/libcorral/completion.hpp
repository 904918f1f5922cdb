#pragma once
// Completion<T>: one Asio completion handler, type-erased so that the reactor thread can finish
// an operation without knowing the handler's type, and completed exactly once.
//
// The handler always runs on its associated executor (the adapter's executor when the handler
// has none of its own), never on the reactor thread and never inside the initiating function:
// the result is posted there. While the operation is pending, the completion holds outstanding
// work on that executor, so an io_context.run() does not return under a pending co_await.
//
// A completion destroyed before it was completed (its operation never reached the reactor
// thread because the adapter was stopping) completes with an error rather than leaving a
// coroutine suspended or a future without a value.
#include <atomic>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include "runtime/spec/error.hpp"

namespace corral::asio_detail {

template <class T>
class Completion {
 public:
  virtual ~Completion() = default;
  // Any thread. Later calls are ignored.
  virtual void complete(Expected<T> result) = 0;
};

template <class T, class Handler, class FallbackExecutor>
class HandlerCompletion final : public Completion<T> {
 public:
  HandlerCompletion(Handler handler, const FallbackExecutor& fallback, std::string what)
      : work_(asio::prefer(asio::get_associated_executor(handler, fallback),
                           asio::execution::outstanding_work.tracked)),
        handler_(std::move(handler)),
        what_(std::move(what)) {}
  ~HandlerCompletion() override {
    deliver(fail(Error(ErrorCode::SystemError, what_ + ": abandoned, the supervisor stopped")));
  }
  HandlerCompletion(const HandlerCompletion&) = delete;
  HandlerCompletion& operator=(const HandlerCompletion&) = delete;

  void complete(Expected<T> result) override { deliver(std::move(result)); }

 private:
  using WorkExecutor = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler, FallbackExecutor>>(),
      asio::execution::outstanding_work.tracked))>;

  void deliver(Expected<T> result) {
    if (done_.exchange(true)) return;
    WorkExecutor work = std::move(*work_);
    work_.reset();
    asio::post(work, [handler = std::move(handler_), result = std::move(result)]() mutable {
      // A cancellation handler we installed must not outlive the operation; clearing it here,
      // on the handler's executor, is where Asio's (single-threaded) slot may be touched.
      asio::get_associated_cancellation_slot(handler).clear();
      std::move(handler)(std::move(result));
    });
  }

  std::optional<WorkExecutor> work_;
  Handler handler_;
  std::string what_;
  std::atomic<bool> done_{false};
};

}  // namespace corral::asio_detail
