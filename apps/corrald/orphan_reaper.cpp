#include "orphan_reaper.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "reactor/ops.hpp"
#include "runtime/proc_stat.hpp"

namespace corrald {

// Our children, from /proc/self/task/TID/children (one reactor thread: every child is its
// child); only those not known are looked at, and kept if in state Z.
std::set<pid_t> OrphanReaper::unknown_zombie_children(
    const std::unordered_set<pid_t>& known) const {
  std::set<pid_t> zombies;
  pid_t self = ::getpid();
  std::ifstream children("/proc/" + std::to_string(self) + "/task/" + std::to_string(self) +
                         "/children");
  pid_t pid;
  while (children >> pid) {
    if (known.count(pid)) continue;
    if (auto stat = corral::read_proc_stat(pid); stat && stat->state == 'Z') zombies.insert(pid);
  }
  return zombies;
}

corral::reactor::Task<void> OrphanReaper::run(std::stop_token stop) {
  std::set<pid_t> suspects;  // unknown zombies seen by the last scan
  while (!stop.stop_requested()) {
    if (!poked_ && suspects.empty()) {
      if (!co_await poke_.wait(stop)) break;
      continue;
    }
    // The SIGCHLDs of a whole settle period make one scan.
    auto slept = co_await corral::reactor::sleep_for(settle_).with_stop(stop);
    if (!slept) break;
    poked_ = false;
    std::set<pid_t> still;
    for (pid_t pid : unknown_zombie_children(known_())) {
      if (!suspects.count(pid)) {
        still.insert(pid);  // first seen: its own waiter may not have come to it yet
        continue;
      }
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0 &&
          info.si_pid == pid) {
        ++reaped_;
        std::fprintf(stderr, "corrald: reaped orphan %d\n", pid);
      }
    }
    suspects = std::move(still);
  }
}

}  // namespace corrald
