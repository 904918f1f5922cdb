// The epoll fallback backend, for hosts where io_uring is disabled or filtered. It serves every
// OpKind with the io_uring backend's semantics, on standalone Asio:
// - pipes, sockets, pidfds: try the system call without blocking; if it would block, wait for
//   readiness with Asio's epoll reactor and try again;
// - files (which epoll cannot wait on) and path operations: a two-thread helper pool runs the
//   blocking call and posts the result back to the owner thread;
// - timers and per-operation deadlines: asio::steady_timer.
// Every completion is delivered by a handler that run_once() runs on the owner thread.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/version.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reactor/backend.hpp"
#include "reactor/epoll_syscalls.hpp"

namespace corral::reactor {
namespace {

using namespace epoll_detail;

constexpr int kPoolThreads = 2;
// Handlers run per run_once beyond the first wait: bounds one step, so the reactor's posted
// work and stop requests get their turn even while coroutines keep completing operations.
constexpr int kMaxHandlersPerStep = 4096;

constexpr std::array<asio::posix::descriptor_base::wait_type, 3> kWaitTypes = {
    asio::posix::descriptor_base::wait_read,
    asio::posix::descriptor_base::wait_write,
    asio::posix::descriptor_base::wait_error,
};

std::chrono::nanoseconds to_duration(const __kernel_timespec& time) {
  return std::chrono::seconds(time.tv_sec) + std::chrono::nanoseconds(time.tv_nsec);
}

// One epoll registration of a caller's fd, shared by every operation waiting on it (epoll
// refuses a second registration of the same fd). Never owns the fd: released, not closed.
struct FdRegistration {
  explicit FdRegistration(asio::io_context& context) : descriptor(context) {}
  asio::posix::stream_descriptor descriptor;
  int users = 0;
  // Asio turns O_NONBLOCK on at its first wait on a descriptor (and never again); the file
  // status flags belong to the caller (a child's stdio may share them), so they are put back.
  int caller_flags = -1;
  bool caller_flags_restored = false;
};

enum class Route { Nop, Ready, Pool, Timer };

// Pool job phases; the owner and the worker race on queued -> cancelled / queued -> running.
enum PoolPhase : int { kQueued, kRunning, kCancelled };

// The backend's state of one submitted operation. Handlers hold it by shared_ptr, so a handler
// that runs after the operation was delivered finds `settled` and leaves the Operation alone.
struct OpState : std::enable_shared_from_this<OpState> {
  Operation* op = nullptr;
  Route route = Route::Nop;
  bool started = false;           // a linked successor waits for its predecessor
  bool settled = false;           // the result is decided; delivery is done or posted
  bool cancel_requested = false;  // cancelled before it started

  // Route::Ready
  int wait_fd = -1;
  int owned_fd = -1;  // a pidfd this backend opened for Waitid(P_PID)
  FdRegistration* registration = nullptr;
  ReadyProgress progress;
  std::array<asio::cancellation_signal, 3> wait_signals;
  std::array<bool, 3> wait_armed{};

  // Route::Pool
  std::atomic<int> pool_phase{kQueued};

  std::optional<asio::steady_timer> timer;     // Route::Timer
  std::optional<asio::steady_timer> deadline;  // has_deadline
};

enum class Delivery { Now, Posted };

std::unique_ptr<asio::thread_pool> make_pool_blocking_signals() {
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  auto pool = std::make_unique<asio::thread_pool>(kPoolThreads);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return pool;
}

class EpollBackend final : public Backend {
 public:
  EpollBackend() {
    probe_epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (probe_epoll_fd_ < 0) {
      std::fprintf(stderr, "corral reactor: epoll backend: epoll_create1 failed: %s\n",
                   std::strerror(errno));
      std::abort();
    }
    features_.native_waitid = true;
    features_.description = "epoll (Asio " + std::to_string(ASIO_VERSION / 100000) + "." +
                            std::to_string(ASIO_VERSION / 100 % 1000) + "." +
                            std::to_string(ASIO_VERSION % 100) + ", pidfd poll, " +
                            std::to_string(kPoolThreads) + " file threads)";
  }

  ~EpollBackend() override {
    // Cancel everything, then run until each operation was delivered: file operations already
    // running on the pool finish with their real result first.
    std::vector<Operation*> pending;
    for (auto& entry : live_) pending.push_back(entry.first);
    for (Operation* op : pending) {
      auto it = live_.find(op);
      if (it == live_.end()) continue;
      if (it->second->started) {
        cancel_started(*it->second);
      } else {
        it->second->cancel_requested = true;
      }
    }
    while (!live_.empty()) {
      if (context_.run_one() == 0) break;
    }
    pool_->join();
    work_guard_.reset();
    context_.restart();
    context_.run();  // aborted timer and wait handlers, pool jobs' returned states
    for (auto& entry : registrations_) entry.second->descriptor.release();
    registrations_.clear();
    ::close(probe_epoll_fd_);
  }

  void submit(Operation& first) override {
    for (Operation* op = &first; op != nullptr; op = op->linked_next) {
      auto state = std::make_shared<OpState>();
      state->op = op;
      op->in_flight = true;
      op->backend_state = state.get();
      live_[op] = std::move(state);
    }
    start(*live_.at(&first));
  }

  void cancel(Operation& op) override {
    auto it = live_.find(&op);
    if (it == live_.end()) return;
    OpState& state = *it->second;
    if (state.settled) return;
    if (!state.started) {
      // Like a linked SQE that has not been issued: it fails when its predecessor finishes.
      state.cancel_requested = true;
      return;
    }
    cancel_started(state);
  }

  int run_once(bool block) override {
    completed_ = 0;
    woken_ = false;
    if (block) {
      // Handlers that only re-arm a wait complete nothing: keep sleeping through them.
      while (completed_ == 0 && !woken_) {
        if (context_.run_one() == 0) break;
      }
    }
    for (int i = 0; i < kMaxHandlersPerStep && context_.poll_one() > 0; ++i) {
    }
    return completed_;
  }

  void wake() override {
    asio::post(context_, [this] { woken_ = true; });
  }

  const BackendFeatures& features() const override { return features_; }

 private:
  void start(OpState& state) {
    state.started = true;
    Operation& op = *state.op;
    if (op.has_deadline) arm_deadline(state);
    if (op.fixed_file) {
      // No registered-file table here: a direct descriptor names nothing this backend knows.
      settle(state, -EBADF, Delivery::Posted);
    } else if (op.kind == OpKind::Nop) {
      state.route = Route::Nop;
      settle(state, 0, Delivery::Posted);
    } else if (op.kind == OpKind::Timeout) {
      start_timer(state);
    } else if (is_file_op(op.kind)) {
      start_on_pool(state);
    } else if (is_stream_capable(op.kind)) {
      start_stream(state);
    } else if (op.kind == OpKind::Waitid) {
      start_waitid(state);
    } else {
      start_ready(state, op.fd);
    }
  }

  // Read/Write/Readv/Writev: readiness for what epoll can wait on, the pool for files.
  void start_stream(OpState& state) {
    const int fd = state.op->fd;
    if (registrations_.count(fd) == 0) {
      int pollable = probe_pollable(probe_epoll_fd_, fd);
      if (pollable < 0) return settle(state, pollable, Delivery::Posted);
      if (pollable == 0) return start_on_pool(state);
    }
    start_ready(state, fd);
  }

  void start_waitid(OpState& state) {
    const Operation& op = *state.op;
    const auto idtype = static_cast<idtype_t>(op.length);
    if (idtype == P_PID) {
      int pidfd = open_pidfd(op.offset);
      // No such process is not a child of ours: say what waitid(P_PID) would.
      if (pidfd == -ESRCH) pidfd = -ECHILD;
      if (pidfd < 0) return settle(state, pidfd, Delivery::Posted);
      state.owned_fd = pidfd;
      state.progress.pidfd = pidfd;
    } else if (static_cast<int>(idtype) == 3 /* P_PIDFD */) {
      state.progress.pidfd = static_cast<int>(op.offset);
    } else {
      // P_ALL and P_PGID have no pidfd to wait on; this backend cannot wait for them.
      return settle(state, -EINVAL, Delivery::Posted);
    }
    start_ready(state, state.progress.pidfd);
  }

  void start_ready(OpState& state, int wait_fd) {
    state.route = Route::Ready;
    state.wait_fd = wait_fd;
    try_ready(state, Delivery::Posted);
  }

  // One non-blocking try; when it would block, wait for readiness (the handler tries again).
  void try_ready(OpState& state, Delivery delivery) {
    Attempt attempt = attempt_ready_op(*state.op, state.progress);
    if (attempt.run_blocking) return start_on_pool(state);
    if (attempt.wait == 0) return settle(state, attempt.result, delivery);
    if (state.registration == nullptr) {
      int rc = register_fd(state.wait_fd, state.registration);
      if (rc < 0) return settle(state, rc, delivery);
    }
    for (std::size_t i = 0; i < kWaitTypes.size(); ++i) {
      if (!(attempt.wait & (1u << i)) || state.wait_armed[i]) continue;
      state.wait_armed[i] = true;
      state.registration->descriptor.async_wait(
          kWaitTypes[i], asio::bind_cancellation_slot(
                             state.wait_signals[i].slot(),
                             [this, self = state.shared_from_this(),
                              i](const asio::error_code& error) { on_ready(*self, i, error); }));
    }
    restore_caller_flags(*state.registration, state.wait_fd);
  }

  static void restore_caller_flags(FdRegistration& registration, int fd) {
    if (registration.caller_flags_restored) return;
    registration.caller_flags_restored = true;
    if (registration.caller_flags >= 0 && !(registration.caller_flags & O_NONBLOCK)) {
      ::fcntl(fd, F_SETFL, registration.caller_flags);
    }
  }

  void on_ready(OpState& state, std::size_t wait_index, const asio::error_code& error) {
    state.wait_armed[wait_index] = false;
    if (state.settled) return;
    if (error == asio::error::operation_aborted) {
      bool still_waiting = false;
      for (bool armed : state.wait_armed) still_waiting |= armed;
      if (!still_waiting) settle(state, -ECANCELED, Delivery::Now);
      return;
    }
    if (error) return settle(state, -error.value(), Delivery::Now);
    try_ready(state, Delivery::Now);
  }

  void start_on_pool(OpState& state) {
    state.route = Route::Pool;
    state.pool_phase.store(kQueued, std::memory_order_relaxed);
    // The worker gets a copy of the arguments: it never reads the Operation, which may be
    // delivered (and gone) while the job is still queued.
    asio::post(*pool_, [this, self = state.shared_from_this(), args = *state.op]() mutable {
      int expected = kQueued;
      if (!self->pool_phase.compare_exchange_strong(expected, kRunning)) {
        // Cancelled before it ran; the state goes back so it is destroyed on the owner thread.
        asio::post(context_, [self = std::move(self)] {});
        return;
      }
      int result = run_blocking_file_op(args);
      asio::post(context_, [this, self = std::move(self), result] {
        if (!self->settled) settle(*self, result, Delivery::Now);
      });
    });
  }

  void start_timer(OpState& state) {
    state.route = Route::Timer;
    state.timer.emplace(context_, to_duration(state.op->time));
    state.timer->async_wait([this, self = state.shared_from_this()](const asio::error_code& error) {
      if (error || self->settled) return;
      settle(*self, -ETIME, Delivery::Now);  // as IORING_OP_TIMEOUT reports expiry
    });
  }

  void arm_deadline(OpState& state) {
    state.deadline.emplace(context_, to_duration(state.op->time));
    state.deadline->async_wait(
        [this, self = state.shared_from_this()](const asio::error_code& error) {
          if (error || self->settled) return;
          self->op->timed_out = true;
          cancel_started(*self);
        });
  }

  // Readiness waits and timers end with -ECANCELED; a pool job that has not begun is dropped,
  // one already running keeps its real result (as io_uring reports for work it cannot stop).
  void cancel_started(OpState& state) {
    switch (state.route) {
      case Route::Nop:
        return;  // completes on the next run_once anyway
      case Route::Pool: {
        int expected = kQueued;
        if (state.pool_phase.compare_exchange_strong(expected, kCancelled)) {
          settle(state, -ECANCELED, Delivery::Posted);
        }
        return;
      }
      case Route::Ready:
      case Route::Timer:
        settle(state, -ECANCELED, Delivery::Posted);
        return;
    }
  }

  // Decides the result and gives back what the operation held (waits, its fd registration,
  // timers, an owned pidfd) before the caller can see the result and, say, close its fd.
  void settle(OpState& state, int result, Delivery delivery) {
    if (state.settled) return;
    state.settled = true;
    for (std::size_t i = 0; i < kWaitTypes.size(); ++i) {
      if (state.wait_armed[i]) state.wait_signals[i].emit(asio::cancellation_type::all);
    }
    if (state.registration != nullptr) {
      unregister_fd(state.wait_fd);
      state.registration = nullptr;
    }
    if (state.owned_fd >= 0) {
      ::close(state.owned_fd);
      state.owned_fd = -1;
    }
    if (state.timer) state.timer->cancel();
    if (state.deadline) state.deadline->cancel();
    if (delivery == Delivery::Now) return deliver(state, result);
    asio::post(context_,
               [this, self = state.shared_from_this(), result] { deliver(*self, result); });
  }

  // Hands the result to the operation's owner; starts or fails its linked successor first, so
  // nothing here touches the Operation after its completion callback.
  void deliver(OpState& state, int result) {
    Operation* op = state.op;
    auto keep_alive = live_.extract(op);
    state.op = nullptr;
    op->result = result;
    op->in_flight = false;
    op->backend_state = nullptr;
    if (Operation* next = op->linked_next) {
      OpState& next_state = *live_.at(next);
      if (result >= 0 && !next_state.cancel_requested) {
        start(next_state);
      } else {
        settle(next_state, -ECANCELED, Delivery::Posted);  // its delivery fails the rest
      }
    }
    const bool counted = !op->internal;
    op->complete(*op);
    if (counted) ++completed_;
  }

  int register_fd(int fd, FdRegistration*& out) {
    auto it = registrations_.find(fd);
    if (it == registrations_.end()) {
      auto registration = std::make_unique<FdRegistration>(context_);
      registration->caller_flags = ::fcntl(fd, F_GETFL);
      if (registration->caller_flags < 0) return -errno;
      asio::error_code error;
      registration->descriptor.assign(fd, error);
      if (error) return -error.value();
      it = registrations_.emplace(fd, std::move(registration)).first;
    }
    ++it->second->users;
    out = it->second.get();
    return 0;
  }

  void unregister_fd(int fd) {
    auto it = registrations_.find(fd);
    if (it == registrations_.end() || --it->second->users > 0) return;
    // release() removes the fd from the epoll set and gives it back without closing it.
    it->second->descriptor.release();
    registrations_.erase(it);
  }

  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_guard_ =
      asio::make_work_guard(context_);
  std::unordered_map<int, std::unique_ptr<FdRegistration>> registrations_;
  std::unordered_map<Operation*, std::shared_ptr<OpState>> live_;
  // The pool's threads start with every signal blocked, so a process-directed signal meant for
  // the owner's SignalSet (signalfd) is never delivered to one of them instead.
  std::unique_ptr<asio::thread_pool> pool_ = make_pool_blocking_signals();
  int probe_epoll_fd_ = -1;
  int completed_ = 0;
  bool woken_ = false;
  BackendFeatures features_;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() {
  return std::make_unique<EpollBackend>();
}

}  // namespace corral::reactor
