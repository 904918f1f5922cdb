#pragma once
// Operation: the state of one asynchronous system call. It lives in the awaiting coroutine's
// frame (no allocation per operation); the io_uring backend puts its address in user_data. A
// backend fills `result` (a syscall-style value: >= 0 or -errno) and calls `complete`.
#include <linux/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/time_types.h>
#include <cstdint>

namespace corral::reactor {

// Operation::flags of an Fsync: sync data only (the bit of IORING_FSYNC_DATASYNC).
inline constexpr int kFsyncDataOnly = 1;

enum class OpKind : std::uint8_t {
  Nop,
  Read,
  Write,
  Readv,
  Writev,
  Openat,
  Close,
  Fsync,
  Renameat,
  Unlinkat,
  Mkdirat,
  Statx,
  Poll,
  Waitid,
  Timeout,
  Accept,
  Recv,
  Send,
  Connect,
  FixedFdInstall,  // an ordinary fd for the direct descriptor `fd` (needs fixed_file)
};

const char* op_name(OpKind kind);

struct Operation {
  using CompleteFn = void (*)(Operation& op);

  // Fields are grouped by size, not by role: thousands of operations wait at once (one per
  // container or pipe), and padding between mixed sizes cost a sixth of the struct.

  // Arguments; which ones are used depends on `kind`.
  void* buffer = nullptr;
  std::uint64_t offset = 0;  // file offset (-1: current position), or the waitid id
  const char* path = nullptr;
  const char* path2 = nullptr;
  void* extra = nullptr;     // struct statx*, siginfo_t*, sockaddr*, socklen_t*
  __kernel_timespec time{};  // Timeout, and the linked timeout of any op with has_deadline
  int fd = -1;
  int fd2 = -1;              // renameat: the new directory fd
  std::uint32_t length = 0;  // bytes, iovec count, or the waitid id type
  int flags = 0;             // open/unlink/statx/recv/send/accept/fsync/waitid options
  std::uint32_t mode = 0;    // open/mkdir mode, statx mask, poll events
  std::uint32_t extra_len = 0;

  // Completion.
  int result = 0;
  CompleteFn complete = nullptr;
  void* owner = nullptr;          // the awaiter or internal object that gets the completion
  void* backend_state = nullptr;  // owned by the backend while in flight (epoll fallback)
  // Chaining: a linked successor runs only if this one succeeds (IOSQE_IO_LINK semantics).
  Operation* linked_next = nullptr;

  OpKind kind = OpKind::Nop;
  bool has_deadline = false;
  // `fd` is a direct descriptor (a slot of the ring's registered-file table, see file_table.hpp),
  // not an ordinary fd: io_uring issues it with IOSQE_FIXED_FILE; the epoll backend has no such
  // table and fails the operation with EBADF.
  bool fixed_file = false;
  bool in_flight = false;
  bool internal = false;       // a backend's own operation (wake-ups): not counted as in flight
  bool cancel_posted = false;  // a stop request from another thread queued a cancel
  bool timed_out = false;      // set by backends when has_deadline fired
  std::uint8_t pending_completions = 0;  // io_uring: CQEs still owed (the op, its link timeout)
};

static_assert(sizeof(Operation) <= 128, "Operation is held by every waiting coroutine");

}  // namespace corral::reactor
