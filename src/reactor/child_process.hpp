#pragma once
// ChildProcess: start a program with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD), as posix_spawn
// does but with a pidfd, and wait for it on the reactor.
//
// The child shares the parent's memory only until it execs and never touches the ring (a forked
// copy would not even map it: the backend sets it MADV_DONTFORK); it resets its signal mask and
// dispositions, keeps only the descriptors it is given, and execs. Exits are waited for with
// IORING_OP_WAITID where the kernel has it (no descriptor needed per child), else by polling the
// pidfd and then waitid(P_PIDFD, WNOHANG). Signals go through the pidfd, so a reused pid can never
// be hit.
#include <sys/types.h>

#include <string>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/result.hpp"
#include "reactor/task.hpp"

namespace corral::reactor {

struct SpawnOptions {
  std::vector<std::string> argv;                      // argv[0] is the path (no PATH search)
  std::vector<std::string> env;                       // empty: inherit the parent's environment
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // -1: inherit
  // Keep a pidfd for the child. Without one, the child costs no descriptor while it runs; it
  // must then be waited for with the ring's WAITID (the pid stays ours until we reap it).
  bool keep_pidfd = true;
};

// Waits for the exit of our own child `pid` and reaps it; `pidfd` may be -1 (the ring's WAITID
// needs none; the fallback opens one for the wait). `extra_options` = WNOWAIT learns the status
// and leaves the zombie, to be reaped later by reap_exited_child.
Task<Result<ChildExit>> wait_for_child_exit(pid_t pid, int pidfd, int extra_options = 0);
// Reaps a child already known to have exited (after a WNOWAIT wait); never blocks.
void reap_exited_child(pid_t pid);

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  // Starts the child; fails with the exec's errno if the program could not be executed.
  static Result<ChildProcess> spawn(const SpawnOptions& options);

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }
  bool reaped() const { return reaped_; }

  // Waits for the exit and reaps the child.
  Task<Result<ChildExit>> wait();
  // Sends `signal` through the pidfd (or by pid when none is kept and the child is unreaped,
  // which is safe: an unreaped child's pid cannot be reused).
  Result<void> send_signal(int signal);

 private:
  pid_t pid_ = 0;
  int pidfd_ = -1;
  bool reaped_ = false;
};

}  // namespace corral::reactor
