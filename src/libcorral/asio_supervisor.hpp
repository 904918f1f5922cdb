#pragma once
// AsioSupervisor: a corral::supervisor::Supervisor driven from Asio, with completion tokens
// (asio::use_awaitable, plain callbacks, asio::use_future; any token async_initiate accepts).
//
// Threading contract
// - The adapter owns one thread, the reactor thread. It constructs a corral::reactor::Reactor
//   there (so that thread alone owns the io_uring ring, or the epoll fallback) and opens the
//   Supervisor on it. Nothing else ever touches the ring or the Supervisor.
// - Every public member function may be called from any thread, concurrently (an Asio thread
//   pool, main(), a foreign thread). An async_* call copies its arguments and hands the
//   operation to the reactor thread with Reactor::post (a mutex-protected queue and an eventfd
//   wake-up); calls made one after another from one thread reach the reactor in that order.
//   The initiating function itself never blocks and never runs the handler.
// - A handler runs on its associated executor (asio::get_associated_executor), or on the
//   adapter's executor when it has none: for use_awaitable, the awaiting coroutine's executor;
//   for a plain callback, the executor given to open(). Handlers never run on the reactor
//   thread, so they may block or call back into the adapter as they like; the reactor thread
//   never waits for them. While an operation is pending it counts as outstanding work on that
//   executor (io_context::run() does not return under it).
// - stop() (and the destructor) block: they hand the shutdown to the reactor thread and join
//   it. Do not call them from a handler the caller's own thread must run for that shutdown to
//   finish (none exists: the shutdown never waits for handlers).
//
// Results and errors
// - Every operation completes with a single corral::Expected<T> (Result<T, corral::Error>): a
//   value, or an Error carrying the code (ContainerNotExists, ConfigInvalid, ...), a message
//   naming the container and the cause. Nothing is thrown for a failed operation, with any
//   token: `Expected<ExitRecord> r = co_await sup.async_run(req, asio::use_awaitable);`,
//   `std::future<Expected<ExitRecord>>` with asio::use_future, `void(Expected<ExitRecord>)` for
//   a callback. (Asio's std::error_code convention would lose the message that names the
//   container; to_error_code() gives one when a caller wants it.)
// - Waits (async_wait, the wait inside async_run, async_next_event) honour the handler's
//   cancellation slot (e.g. `co_await (op || timer)`): they end with a "cancelled" error and
//   the container is left alone. Emit the cancellation from the handler's executor, as Asio
//   expects of cancellation slots.
//
// Lifetimes: the adapter must outlive the initiation of each operation (a lazy token such as
// use_awaitable initiates at the co_await); once initiated, an operation keeps what it needs
// alive itself and its handler is always called, with an error if the adapter stopped.
// EventSubscription objects may outlive the adapter (their stream then ends with an error).
//
// Shutdown: stop() ends every pending wait with a "cancelled" error, lets in-flight creates,
// starts and removes finish (their handlers get their results), closes event subscriptions,
// then runs Supervisor::shutdown(stop_containers_on_stop) and joins the reactor thread.
// Containers keep running unless stop_containers_on_stop; they stay on disk either way
// (remove them first to leave nothing behind). An operation started after stop() completes at
// once with a "stopped" error.
#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include "libcorral/adapter_core.hpp"
#include "libcorral/completion.hpp"
#include "libcorral/event_subscription.hpp"
#include "libcorral/run_to_exit.hpp"
#include "reactor/reactor.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace corral {

struct AsioSupervisorOptions {
  supervisor::SupervisorOptions supervisor;  // its factory.init_path: the corral-init binary
  reactor::ReactorOptions reactor;
  bool recover = true;                   // load containers found under the root at open()
  bool stop_containers_on_stop = false;  // stop(): SIGTERM, then SIGKILL after the grace time
};

// The Error's code as a std::error_code (category "corral"; the message is the code's name).
std::error_code to_error_code(const Error& error);
const std::error_category& corral_category() noexcept;

class AsioSupervisor {
 public:
  using executor_type = asio::any_io_executor;

  // Starts the reactor thread and opens (and, by default, recovers) the supervisor there;
  // blocks until that is done. `executor` runs handlers that have no executor of their own.
  static Expected<std::unique_ptr<AsioSupervisor>> open(executor_type executor,
                                                        AsioSupervisorOptions options);
  ~AsioSupervisor();
  AsioSupervisor(const AsioSupervisor&) = delete;
  AsioSupervisor& operator=(const AsioSupervisor&) = delete;

  executor_type get_executor() const { return executor_; }
  // Idempotent; blocks until the reactor thread has shut the supervisor down and exited.
  void stop();

  // void(Expected<supervisor::ContainerInfo>): the container is created (not started).
  template <class Token>
  auto async_create(supervisor::CreateRequest request, Token&& token) {
    return initiate<supervisor::ContainerInfo>(
        std::forward<Token>(token), "create container " + request.id,
        [request](supervisor::Supervisor& sup, std::stop_token) { return sup.create(request); });
  }

  // void(Expected<supervisor::ContainerInfo>): the container's process is running.
  template <class Token>
  auto async_start(std::string id, Token&& token) {
    return initiate<supervisor::ContainerInfo>(
        std::forward<Token>(token), "start container " + id,
        [id](supervisor::Supervisor& sup, std::stop_token) { return sup.start(id); });
  }

  // void(Expected<ExitRecord>): creates, starts and completes when the container has stopped
  // for good (after any restarts its policy asks for). status 3 for `sh -c 'exit 3'`.
  template <class Token>
  auto async_run(supervisor::CreateRequest request, Token&& token) {
    return initiate<ExitRecord>(std::forward<Token>(token), "run container " + request.id,
                                [request](supervisor::Supervisor& sup, std::stop_token stop) {
                                  return run_to_exit(sup, request, std::move(stop));
                                });
  }

  // void(Expected<ExitRecord>): when the container has stopped for good; at once if it has.
  template <class Token>
  auto async_wait(std::string id, Token&& token) {
    return initiate<ExitRecord>(
        std::forward<Token>(token), "wait for container " + id,
        [id](supervisor::Supervisor& sup, std::stop_token stop) { return sup.wait(id, stop); });
  }

  // void(Expected<void>): the signal was sent (to the init, or with all to every process of
  // the container's cgroup). Counts as a stop by the user: no restart follows.
  template <class Token>
  auto async_kill(std::string id, int signal, bool all, Token&& token) {
    return initiate<void>(std::forward<Token>(token), "kill container " + id,
                          [id, signal, all](supervisor::Supervisor& sup, std::stop_token) {
                            return kill_now(sup, id, signal, all);
                          });
  }

  // void(Expected<void>): the container is gone (cgroup, state, logs). A running one needs
  // force (it is killed first).
  template <class Token>
  auto async_remove(std::string id, bool force, Token&& token) {
    return initiate<void>(std::forward<Token>(token), "delete container " + id,
                          [id, force](supervisor::Supervisor& sup, std::stop_token) {
                            return sup.remove(id, force);
                          });
  }

  // void(Expected<supervisor::ContainerInfo>)
  template <class Token>
  auto async_state(std::string id, Token&& token) {
    return initiate<supervisor::ContainerInfo>(
        std::forward<Token>(token), "state of container " + id,
        [id](supervisor::Supervisor& sup, std::stop_token) { return state_now(sup, id); });
  }

  // void(Expected<std::vector<supervisor::ContainerInfo>>)
  template <class Token>
  auto async_list(Token&& token) {
    return initiate<std::vector<supervisor::ContainerInfo>>(
        std::forward<Token>(token), "list containers",
        [](supervisor::Supervisor& sup, std::stop_token) { return list_now(sup); });
  }

  // A stream of events, queued from now on (see event_subscription.hpp). Any thread.
  EventSubscription subscribe(std::size_t capacity = 1024);

 private:
  AsioSupervisor(executor_type executor, std::shared_ptr<asio_detail::AdapterCore> core)
      : executor_(std::move(executor)), core_(std::move(core)) {}

  static reactor::Task<Expected<void>> kill_now(supervisor::Supervisor& sup, std::string id,
                                                int signal, bool all);
  static reactor::Task<Expected<supervisor::ContainerInfo>> state_now(supervisor::Supervisor& sup,
                                                                      std::string id);
  static reactor::Task<Expected<std::vector<supervisor::ContainerInfo>>> list_now(
      supervisor::Supervisor& sup);

  template <class T, class Token>
  auto initiate(Token&& token, std::string what, asio_detail::OperationBody<T> body) {
    return asio::async_initiate<Token, void(Expected<T>)>(
        [this](auto handler, std::string what, asio_detail::OperationBody<T> body) {
          launch<T>(std::move(handler), std::move(what), std::move(body));
        },
        token, std::move(what), std::move(body));
  }

  template <class T, class Handler>
  void launch(Handler handler, std::string what, asio_detail::OperationBody<T> body) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    std::shared_ptr<asio_detail::Completion<T>> completion =
        std::make_shared<asio_detail::HandlerCompletion<T, Handler, executor_type>>(
            std::move(handler), executor_, what);
    auto cancel = std::make_shared<std::stop_source>();
    if (slot.is_connected()) {
      std::weak_ptr<asio_detail::AdapterCore> weak_core = core_;
      slot.assign([weak_core, cancel](asio::cancellation_type) {
        // The stop token's callbacks (the Supervisor's waiters) belong to the reactor thread.
        if (auto core = weak_core.lock()) (void)core->post([cancel] { cancel->request_stop(); });
      });
    }
    bool handed_over = core_->post([core = core_, completion, body = std::move(body), cancel] {
      core->spawn<T>(completion, body, cancel);
    });
    if (!handed_over)
      completion->complete(
          fail(Error(ErrorCode::SystemError, what + ": the supervisor is stopped")));
  }

  executor_type executor_;
  std::shared_ptr<asio_detail::AdapterCore> core_;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace corral
