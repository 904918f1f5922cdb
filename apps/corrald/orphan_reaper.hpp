#pragma once
// OrphanReaper: corrald is a child subreaper (PR_SET_CHILD_SUBREAPER), so processes orphaned
// below it (a hook's leftovers, the children of an init without a PID namespace) become its
// children; somebody must reap them or they stay zombies forever.
//
// It must never reap a child somebody else waits for (a container's init, a hook being run):
// that would steal the exit status. Those are reaped within moments of their exit by their own
// waitid, so a zombie that is still there, and still not a known container init, one settle
// period after it was first seen is an orphan. The reaper runs only after SIGCHLD and while
// zombies remain: with nothing happening it costs nothing.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <set>
#include <stop_token>

#include "reactor/task.hpp"
#include "runtime/supervisor/notifier.hpp"

namespace corrald {

class OrphanReaper {
 public:
  // is_known(pid): true for pids that others wait for (the supervisor's container inits).
  explicit OrphanReaper(std::function<bool(pid_t)> is_known,
                        std::chrono::milliseconds settle = std::chrono::milliseconds(1000))
      : is_known_(std::move(is_known)), settle_(settle) {}

  void on_sigchld() { poke_.notify_all(); }
  corral::reactor::Task<void> run(std::stop_token stop);
  std::size_t reaped() const { return reaped_; }

 private:
  std::set<pid_t> zombie_children() const;

  std::function<bool(pid_t)> is_known_;
  std::chrono::milliseconds settle_;
  corral::supervisor::Notifier poke_;
  std::size_t reaped_ = 0;
};

}  // namespace corrald
