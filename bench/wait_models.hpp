#pragma once
// Three ways for one process to wait on many children, shared by corral-wait-bench (plain
// children) and corral-bench (its hold and exit-storm scenarios):
//
//   Reactor   this project's reactor: IORING_OP_WAITID per child, no descriptor per child
//   Asio      Asio/epoll on pidfds: one pidfd + one epoll registration per child
//   Threads   one std::thread per child, blocked in waitpid
//
// Each model sets up one wait per child, says it is ready, then waits in its own way (its event
// loop, or its main thread) until `control_fd` is readable, calls `release` (which makes the
// children exit: close their stdin, or SIGKILL them) and returns once every exit was observed.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace corral::bench {

enum class WaitModel { Reactor, Asio, Threads };

const char* wait_model_name(WaitModel model);

// Starts n busybox `sh -c 'read x; exit 7'` children reading `gate_fd` as stdin.
std::vector<pid_t> start_blocked_children(int n, int gate_fd);

struct WaitHooks {
  std::function<void()> ready;    // every wait is in place (may be empty)
  int control_fd = -1;            // readable: time to release
  std::function<void()> release;  // makes the children exit
};

struct WaitOutcome {
  double setup_s = 0;
  int seen = 0;                      // exits observed
  int with_status_7 = 0;             // of which exit(7), the blocked children's own exit
  std::vector<double> exit_after_s;  // per observed exit: seconds after release() was called
};

WaitOutcome wait_all(WaitModel model, const std::vector<pid_t>& pids, const WaitHooks& hooks);

}  // namespace corral::bench
