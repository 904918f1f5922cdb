#pragma once
// OrphanReaper: corrald is a child subreaper (PR_SET_CHILD_SUBREAPER), so processes orphaned
// below it (a hook's leftovers, the children of an init without a PID namespace) become its
// children; somebody must reap them or they stay zombies forever.
//
// It must never reap a child somebody else waits for (a container's init, a hook being run):
// that would steal the exit status. Those are reaped within moments of their exit by their own
// waitid, so a zombie that is still there, and still not a known container init, one settle
// period after it was first seen is an orphan. The reaper runs only after SIGCHLD and while
// zombies remain: with nothing happening it costs nothing. A scan reads the child list once,
// leaves out the known inits before looking at anything per process, and comes at most once
// per settle period: an exit storm of 10,000 containers (10,000 SIGCHLDs, 10,000 zombies
// waiting for their journal write) costs a few scans, not one /proc read per zombie per exit.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <set>
#include <stop_token>
#include <unordered_set>

#include "reactor/task.hpp"
#include "runtime/supervisor/notifier.hpp"

namespace corrald {

class OrphanReaper {
 public:
  // known(): the pids that others wait for (the supervisor's container inits).
  explicit OrphanReaper(std::function<std::unordered_set<pid_t>()> known,
                        std::chrono::milliseconds settle = std::chrono::milliseconds(1000))
      : known_(std::move(known)), settle_(settle) {}

  void on_sigchld() {
    poked_ = true;
    poke_.notify_all();
  }
  corral::reactor::Task<void> run(std::stop_token stop);
  std::size_t reaped() const { return reaped_; }

 private:
  // Our zombie children that are not in `known`.
  std::set<pid_t> unknown_zombie_children(const std::unordered_set<pid_t>& known) const;

  std::function<std::unordered_set<pid_t>()> known_;
  bool poked_ = false;  // a SIGCHLD since the last scan began
  std::chrono::milliseconds settle_;
  corral::supervisor::Notifier poke_;
  std::size_t reaped_ = 0;
};

}  // namespace corrald
