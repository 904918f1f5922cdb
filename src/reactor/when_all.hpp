#pragma once
// when_all / when_any: run tasks concurrently on the current reactor and wait for them.
// Both are structured: they return only after every task they started has finished.
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "reactor/task.hpp"

namespace corral::reactor {

namespace detail {

// Counts finished children; the parent awaits it.
class Latch {
 public:
  explicit Latch(std::size_t count) : remaining_(count) {}
  void count_down() {
    if (--remaining_ == 0 && waiter_) std::exchange(waiter_, {}).resume();
  }
  bool await_ready() const noexcept { return remaining_ == 0; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept { waiter_ = waiter; }
  void await_resume() const noexcept {}

 private:
  std::size_t remaining_;
  std::coroutine_handle<> waiter_;
};

template <class T>
using StoredResult = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T, class OnDone>
DetachedCoroutine run_child(Task<T> task, std::optional<StoredResult<T>>& out,
                            std::exception_ptr& error, OnDone on_done) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      out.emplace();
    } else {
      out.emplace(co_await std::move(task));
    }
  } catch (...) {
    error = std::current_exception();
  }
  on_done();
}

}  // namespace detail

// All of `tasks`, in order. If any throws, the first exception (by index) is rethrown after
// all have finished.
template <class T>
Task<std::vector<detail::StoredResult<T>>> when_all(std::vector<Task<T>> tasks) {
  using Stored = detail::StoredResult<T>;
  std::vector<std::optional<Stored>> results(tasks.size());
  std::vector<std::exception_ptr> errors(tasks.size());
  detail::Latch latch(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    detail::run_child(std::move(tasks[i]), results[i], errors[i], [&latch] { latch.count_down(); });
  }
  co_await latch;
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  std::vector<Stored> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(std::move(*r));
  co_return out;
}

// Heterogeneous: when_all(task_a, task_b) -> tuple<A, B> (void becomes std::monostate).
template <class... Ts>
Task<std::tuple<detail::StoredResult<Ts>...>> when_all(Task<Ts>... tasks) {
  std::tuple<std::optional<detail::StoredResult<Ts>>...> results;
  std::exception_ptr errors[sizeof...(Ts)];
  detail::Latch latch(sizeof...(Ts));
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (detail::run_child(std::move(tasks), std::get<I>(results), errors[I],
                       [&latch] { latch.count_down(); }),
     ...);
  }
  (std::index_sequence_for<Ts...>{});
  co_await latch;
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  co_return std::apply([](auto&... r) { return std::tuple{std::move(*r)...}; }, results);
}

template <class T>
struct AnyResult {
  std::size_t index = 0;
  detail::StoredResult<T> value;
};

// The first of `tasks` to finish wins: `stop` is requested so that the others (which should
// pass stop.get_token() to their operations) finish early, and when_any returns the winner
// after all of them have finished. If the winner threw, its exception is rethrown.
template <class T>
Task<AnyResult<T>> when_any(std::vector<Task<T>> tasks, std::stop_source& stop) {
  using Stored = detail::StoredResult<T>;
  std::vector<std::optional<Stored>> results(tasks.size());
  std::vector<std::exception_ptr> errors(tasks.size());
  std::optional<std::size_t> winner;
  detail::Latch latch(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    detail::run_child(std::move(tasks[i]), results[i], errors[i], [&, i] {
      if (!winner) {
        winner = i;
        stop.request_stop();
      }
      latch.count_down();
    });
  }
  co_await latch;
  if (!winner) throw std::logic_error("when_any of no tasks");
  if (errors[*winner]) std::rethrow_exception(errors[*winner]);
  co_return AnyResult<T>{*winner, std::move(*results[*winner])};
}

}  // namespace corral::reactor
