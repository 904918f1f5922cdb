#pragma once
// clone(CLONE_VM | CLONE_VFORK), as posix_spawn does: the child runs `entry` in the parent's
// memory, on a stack of its own, while the calling thread waits until the child has exec'd or
// died. No page tables are copied, so a supervisor with a large heap spawns as fast as a small
// one, and the parent takes no copy-on-write faults afterwards.
//
// `entry` may make system calls only: no allocation, nothing that takes a lock, no write to
// memory the parent uses except what it was handed to report through. All signals are blocked
// across the clone so that no handler of ours runs in the child; the child must reset the
// dispositions and unblock them (reset_signals_for_exec) before it execs.
namespace corral::reactor {

// `flags` may add CLONE_NEW* (not CLONE_NEWTIME, which only clone3 takes: EINVAL) and
// CLONE_PIDFD (the pidfd is then stored in *pidfd); the exit signal is SIGCHLD. Returns the pid,
// or -1 with errno set. The child's stack is one per calling thread, kept for its life.
int vfork_clone(int (*entry)(void*), void* arg, unsigned long flags, int* pidfd);

}  // namespace corral::reactor
