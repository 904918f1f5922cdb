#pragma once
// AdapterCore: the part of an AsioSupervisor shared between callers' threads and the reactor
// thread. Callers only ever use post(); everything else is touched on the reactor thread.
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <vector>

#include "libcorral/completion.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/supervisor/notifier.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace corral::asio_detail {

class EventQueue;

// What an operation does on the reactor thread; the stop token is the operation's own
// cancellation (its handler's cancellation slot) merged with the adapter's stop.
template <class T>
using OperationBody =
    std::function<reactor::Task<Expected<T>>(supervisor::Supervisor&, std::stop_token)>;

class AdapterCore {
 public:
  // Any thread: runs fn on the reactor thread; false once the adapter is stopping (fn dropped).
  bool post(std::function<void()> fn);

  // --- reactor thread only ---
  template <class T>
  void spawn(std::shared_ptr<Completion<T>> completion, OperationBody<T> body,
             std::shared_ptr<std::stop_source> cancel) {
    operations_.spawn(
        run_operation<T>(*this, std::move(completion), std::move(body), std::move(cancel)));
  }
  void add_subscription(const std::shared_ptr<EventQueue>& queue);
  void remove_subscription(const std::shared_ptr<EventQueue>& queue);

 private:
  template <class T>
  static reactor::Task<void> run_operation(AdapterCore& core,
                                           std::shared_ptr<Completion<T>> completion,
                                           OperationBody<T> body,
                                           std::shared_ptr<std::stop_source> cancel) {
    // The adapter's stop ends waits too, so that its shutdown never waits on a container.
    std::stop_callback on_adapter_stop(core.operations_.token(),
                                       [cancel] { cancel->request_stop(); });
    Expected<T> result = fail(Error(ErrorCode::SystemError, "no result"));
    try {
      result = co_await body(*core.supervisor_, cancel->get_token());
    } catch (const std::exception& e) {
      result = fail(
          Error(ErrorCode::SystemError, std::string("supervisor operation threw: ") + e.what()));
    }
    completion->complete(std::move(result));
  }

 public:
  // Lifecycle, driven by AsioSupervisor (asio_supervisor.cpp).
  void attach(reactor::Reactor& reactor, supervisor::Supervisor& sup);
  // Any thread: stop accepting calls and wake the reactor thread's serve().
  bool request_stop();
  // Reactor thread: runs until request_stop(), then cancels and joins the operations, closes
  // the subscriptions and shuts the supervisor down.
  reactor::Task<void> serve(bool stop_containers);
  // Reactor thread, after serve(): no reactor to post to any more.
  void detach();

 private:
  std::mutex mutex_;
  reactor::Reactor* reactor_ = nullptr;
  bool accepting_ = false;

  supervisor::Supervisor* supervisor_ = nullptr;
  reactor::TaskScope operations_;
  bool stop_requested_ = false;
  supervisor::Notifier stop_notifier_;
  std::vector<std::shared_ptr<EventQueue>> subscriptions_;
};

}  // namespace corral::asio_detail
