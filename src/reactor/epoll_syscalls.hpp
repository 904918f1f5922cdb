#pragma once
// The system calls behind the epoll backend, kept apart from its bookkeeping: file operations
// that run (blocking) on a helper thread, and readiness operations tried without blocking.
#include <cstdint>

#include "reactor/operation.hpp"

namespace corral::reactor::epoll_detail {

// What a readiness operation waits for before it is tried again (Asio's three wait types).
enum WaitBits : unsigned {
  kWaitRead = 1u << 0,
  kWaitWrite = 1u << 1,
  kWaitPriority = 1u << 2,
};

// One non-blocking try: a final syscall-style result (wait == 0), or "not ready yet, wait for
// `wait` and try again", or "epoll cannot tell when this becomes possible: run it blocking on the
// helper pool" (run_blocking).
struct Attempt {
  int result = 0;
  unsigned wait = 0;
  bool run_blocking = false;
};

// State a readiness operation keeps between its tries.
struct ReadyProgress {
  int pidfd = -1;                       // Waitid: the pidfd to wait on
  bool connect_in_progress = false;     // Connect: EINPROGRESS seen, now waiting for the outcome
  bool rwf_nowait_unsupported = false;  // Read/Write: the fd refuses RWF_NOWAIT (ttys)
};

// True for the operations that only run on the helper pool (epoll cannot wait on files).
bool is_file_op(OpKind kind);

// True for Read/Write/Readv/Writev: they go to the pool or wait for readiness by fd type.
bool is_stream_capable(OpKind kind);

// Whether epoll can wait on `fd`: 1 yes, 0 no (regular files, directories, block devices), or
// -errno (EBADF). `probe_epoll_fd` is a private epoll set used only for this question.
int probe_pollable(int probe_epoll_fd, int fd);

// Runs a file operation to completion (it may block); returns the syscall-style result.
int run_blocking_file_op(const Operation& op);

// Tries a readiness operation once without blocking.
Attempt attempt_ready_op(Operation& op, ReadyProgress& progress);

// pidfd_open(2); returns the fd or -errno.
int open_pidfd(std::uint64_t pid);

}  // namespace corral::reactor::epoll_detail
