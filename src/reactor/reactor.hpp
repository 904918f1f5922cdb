#pragma once
// Reactor: one ring (or the epoll fallback), one owner thread, many coroutines.
//
// Threading contract:
// - A Reactor belongs to the thread that constructs it. Only that thread may submit operations,
//   run the loop or touch its coroutines; doing otherwise aborts with a message (the check is a
//   thread-id comparison, kept in every build type because it is cheap).
// - Any thread may call post() (run a function on the owner thread), wake() and request_stop().
//   post() pushes onto a mutex-protected queue and wakes the owner through an eventfd that the
//   ring is reading.
// - std::stop_token cancellation works from any thread: a stop requested on the owner thread
//   cancels at once; from elsewhere the cancel is handed over through the same queue.
#include <atomic>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reactor/backend.hpp"
#include "reactor/task.hpp"

namespace corral::reactor {

struct ReactorOptions {
  BackendKind backend = BackendKind::Auto;
  unsigned queue_depth = 1024;
};

class Reactor {
 public:
  explicit Reactor(ReactorOptions options = {});
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // The reactor owned by the calling thread, or nullptr.
  static Reactor* current() noexcept;
  static Reactor& require_current();

  BackendKind backend_kind() const { return kind_; }
  const BackendFeatures& features() const { return backend_->features(); }
  // Why io_uring was not used, when the epoll fallback runs (empty otherwise).
  const std::string& fallback_reason() const { return fallback_reason_; }

  // Runs `task` to completion on this thread, driving the loop; returns its value or rethrows.
  template <class T>
  T block_on(Task<T> task);

  // Runs the loop until request_stop(). Owner thread.
  void run();
  // Processes what is ready without sleeping; returns completions handled. Owner thread.
  int poll_once();
  void request_stop();  // any thread

  // Runs fn on the owner thread, soon. Any thread.
  void post(std::function<void()> fn);

  // For awaitables: submit/cancel on the owner thread, and a cross-thread cancel.
  void submit(Operation& op);
  void cancel(Operation& op);
  void cancel_from_any_thread(Operation& op);
  // Called by an awaiter when its operation completed, to drop a cancel still queued for it.
  void forget_cancel(Operation& op);

  // The backend's registered-file table (direct descriptors); -errno results, -EOPNOTSUPP on
  // the epoll backend. Owner thread. Use FileTable (file_table.hpp) rather than these.
  int register_direct_table(unsigned slots);
  int set_direct_slot(unsigned slot, int fd);
  int unregister_direct_table();

  // Sees every operation as it is submitted (kind and arguments), on the owner thread: for
  // tests that check the order of system calls, and for tracing. Null to remove.
  using SubmitObserver = void (*)(void* context, const Operation& op);
  void set_submit_observer(SubmitObserver observer, void* context) {
    observer_ = observer;
    observer_context_ = context;
  }

  std::size_t in_flight() const { return in_flight_; }
  bool on_owner_thread() const { return std::this_thread::get_id() == owner_; }
  void assert_owner(const char* what) const;

 private:
  friend struct OperationAccounting;
  void run_step(bool block);
  void drain_posted();

  BackendKind kind_;
  std::unique_ptr<Backend> backend_;
  std::string fallback_reason_;
  std::thread::id owner_;
  std::size_t in_flight_ = 0;
  std::atomic<bool> stop_requested_{false};
  SubmitObserver observer_ = nullptr;
  void* observer_context_ = nullptr;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<Operation*> remote_cancels_;
  std::atomic<bool> has_posted_{false};
};

namespace detail {
template <class T>
struct BlockOnState {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};
template <>
struct BlockOnState<void> {
  std::exception_ptr error;
  bool done = false;
};

template <class T>
DetachedCoroutine drive(Task<T> task, BlockOnState<T>& state) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
    } else {
      state.value.emplace(co_await std::move(task));
    }
  } catch (...) {
    state.error = std::current_exception();
  }
  state.done = true;
}
}  // namespace detail

template <class T>
T Reactor::block_on(Task<T> task) {
  assert_owner("block_on");
  detail::BlockOnState<T> state;
  detail::drive(std::move(task), state);
  while (!state.done) run_step(true);
  if (state.error) std::rethrow_exception(state.error);
  if constexpr (!std::is_void_v<T>) return std::move(*state.value);
}

}  // namespace corral::reactor
