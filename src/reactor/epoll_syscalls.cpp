#include "reactor/epoll_syscalls.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reactor/ops.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace corral::reactor::epoll_detail {
namespace {

// Repeats a system call interrupted by a signal; returns its value, or -errno.
template <class Call>
long retry_eintr(Call call) {
  for (;;) {
    long rc = call();
    if (rc >= 0) return rc;
    if (errno != EINTR) return -errno;
  }
}

int as_result(long rc) {
  return static_cast<int>(rc);
}

bool is_would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

// Zero-timeout poll: the ready events among `events`, 0 if none, or -errno (-EBADF for POLLNVAL).
int ready_events(int fd, short events) {
  pollfd pfd{fd, events, 0};
  long rc = retry_eintr([&] { return static_cast<long>(::poll(&pfd, 1, 0)); });
  if (rc < 0) return as_result(rc);
  if (rc == 0) return 0;
  if (pfd.revents & POLLNVAL) return -EBADF;
  return pfd.revents;
}

struct IoVector {
  iovec single{};
  const iovec* iov = nullptr;
  int count = 0;
};

IoVector io_vector_of(const Operation& op) {
  IoVector v;
  if (op.kind == OpKind::Read || op.kind == OpKind::Write) {
    v.single = iovec{op.buffer, op.length};
    v.iov = &v.single;
    v.count = 1;
  } else {
    v.iov = static_cast<const iovec*>(op.buffer);
    v.count = static_cast<int>(op.length);
  }
  return v;
}

bool is_write(OpKind kind) {
  return kind == OpKind::Write || kind == OpKind::Writev;
}

int blocking_rw(const Operation& op) {
  IoVector v = io_vector_of(op);
  const bool at_position = op.offset == kCurrentPosition;
  const auto offset = static_cast<off_t>(op.offset);
  return as_result(retry_eintr([&]() -> long {
    if (is_write(op.kind)) {
      return at_position ? ::writev(op.fd, v.iov, v.count)
                         : ::pwritev(op.fd, v.iov, v.count, offset);
    }
    return at_position ? ::readv(op.fd, v.iov, v.count) : ::preadv(op.fd, v.iov, v.count, offset);
  }));
}

// Read/Write/Readv/Writev on a pipe, socket or character device, never blocking the owner thread
// even when the caller's fd is in blocking mode: RWF_NOWAIT where the file supports it, otherwise
// only after a zero-timeout poll said the fd is ready.
Attempt try_stream_rw(Operation& op, ReadyProgress& progress) {
  const bool write = is_write(op.kind);
  const unsigned wait = write ? kWaitWrite : kWaitRead;
  IoVector v = io_vector_of(op);
  if (!progress.rwf_nowait_unsupported) {
    long n = retry_eintr([&]() -> long {
      return write ? ::pwritev2(op.fd, v.iov, v.count, -1, RWF_NOWAIT)
                   : ::preadv2(op.fd, v.iov, v.count, -1, RWF_NOWAIT);
    });
    if (n >= 0) return {as_result(n), 0};
    if (is_would_block(static_cast<int>(-n))) return {0, wait};
    if (n != -EOPNOTSUPP) return {as_result(n), 0};
    progress.rwf_nowait_unsupported = true;
  }
  int ready = ready_events(op.fd, write ? POLLOUT : POLLIN);
  if (ready < 0) return {ready, 0};
  if (ready == 0) return {0, wait};
  long n = retry_eintr([&]() -> long {
    return write ? ::writev(op.fd, v.iov, v.count) : ::readv(op.fd, v.iov, v.count);
  });
  if (n < 0 && is_would_block(static_cast<int>(-n))) return {0, wait};
  return {as_result(n), 0};
}

Attempt try_accept(Operation& op) {
  // accept4 has no per-call non-blocking flag: only call it once a connection is queued.
  int ready = ready_events(op.fd, POLLIN);
  if (ready < 0) return {ready, 0};
  if (ready == 0) return {0, kWaitRead};
  long fd = retry_eintr([&] {
    return static_cast<long>(::accept4(op.fd, static_cast<sockaddr*>(op.extra),
                                       static_cast<socklen_t*>(op.buffer), op.flags));
  });
  if (fd < 0 && is_would_block(static_cast<int>(-fd))) return {0, kWaitRead};
  return {as_result(fd), 0};
}

Attempt try_connect(Operation& op, ReadyProgress& progress) {
  if (progress.connect_in_progress) {
    int ready = ready_events(op.fd, POLLOUT);
    if (ready < 0) return {ready, 0};
    if (ready == 0) return {0, kWaitWrite};
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return {-errno, 0};
    return {-error, 0};
  }
  // A blocking socket is made non-blocking for the connect call only, so the owner thread
  // never sleeps in connect(2); the kernel then finishes the handshake in the background.
  int file_flags = ::fcntl(op.fd, F_GETFL);
  if (file_flags < 0) return {-errno, 0};
  const bool was_blocking = (file_flags & O_NONBLOCK) == 0;
  if (was_blocking && ::fcntl(op.fd, F_SETFL, file_flags | O_NONBLOCK) < 0) return {-errno, 0};
  int rc = ::connect(op.fd, static_cast<const sockaddr*>(op.extra), op.extra_len);
  int err = rc < 0 ? errno : 0;
  if (was_blocking) ::fcntl(op.fd, F_SETFL, file_flags);
  if (rc == 0) return {0, 0};
  if (err == EINPROGRESS || err == EINTR) {
    progress.connect_in_progress = true;
    return {0, kWaitWrite};
  }
  // A Unix socket whose listener's backlog is full: nothing becomes pollable when room appears.
  if (err == EAGAIN && was_blocking) return {0, 0, true};
  return {-err, 0};
}

Attempt try_poll(Operation& op) {
  const auto wanted = static_cast<short>(op.mode);
  int ready = ready_events(op.fd, wanted);
  if (ready != 0) return {ready, 0};
  unsigned wait = 0;
  if (op.mode & (POLLIN | POLLRDNORM | POLLRDBAND | POLLRDHUP)) wait |= kWaitRead;
  if (op.mode & (POLLOUT | POLLWRNORM | POLLWRBAND)) wait |= kWaitWrite;
  if (op.mode & POLLPRI) wait |= kWaitPriority;
  // Errors and hang-ups wake every wait type; with nothing asked for, wait for those alone.
  return {0, wait == 0 ? kWaitRead : wait};
}

Attempt try_waitid(Operation& op, ReadyProgress& progress) {
  siginfo_t scratch;
  auto* info = op.extra != nullptr ? static_cast<siginfo_t*>(op.extra) : &scratch;
  std::memset(info, 0, sizeof *info);
  long rc = retry_eintr([&] {
    return static_cast<long>(::waitid(static_cast<idtype_t>(P_PIDFD),
                                      static_cast<id_t>(progress.pidfd), info, op.flags | WNOHANG));
  });
  if (rc < 0) return {as_result(rc), 0};
  if (info->si_pid == 0) return {0, kWaitRead};  // no state change yet
  return {0, 0};
}

Attempt try_send_recv(Operation& op) {
  const bool sending = op.kind == OpKind::Send;
  long n = retry_eintr([&]() -> long {
    return sending ? ::send(op.fd, op.buffer, op.length, op.flags | MSG_DONTWAIT)
                   : ::recv(op.fd, op.buffer, op.length, op.flags | MSG_DONTWAIT);
  });
  if (n < 0 && is_would_block(static_cast<int>(-n))) return {0, sending ? kWaitWrite : kWaitRead};
  return {as_result(n), 0};
}

}  // namespace

bool is_file_op(OpKind kind) {
  switch (kind) {
    case OpKind::Openat:
    case OpKind::Close:
    case OpKind::Fsync:
    case OpKind::Renameat:
    case OpKind::Unlinkat:
    case OpKind::Mkdirat:
    case OpKind::Statx:
      return true;
    default:
      return false;
  }
}

bool is_stream_capable(OpKind kind) {
  return kind == OpKind::Read || kind == OpKind::Write || kind == OpKind::Readv ||
         kind == OpKind::Writev;
}

int probe_pollable(int probe_epoll_fd, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  if (::epoll_ctl(probe_epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
    if (errno == EPERM) return 0;  // regular file, directory, block device
    return -errno;
  }
  ::epoll_ctl(probe_epoll_fd, EPOLL_CTL_DEL, fd, &event);
  return 1;
}

int run_blocking_file_op(const Operation& op) {
  switch (op.kind) {
    case OpKind::Read:
    case OpKind::Write:
    case OpKind::Readv:
    case OpKind::Writev:
      return blocking_rw(op);
    case OpKind::Openat:
      return as_result(retry_eintr([&] {
        return static_cast<long>(::openat(op.fd, op.path, op.flags, static_cast<mode_t>(op.mode)));
      }));
    case OpKind::Close:
      // Never retried: after EINTR the descriptor is already gone on Linux.
      return ::close(op.fd) < 0 ? -errno : 0;
    case OpKind::Fsync:
      return as_result(retry_eintr([&] {
        return static_cast<long>((op.flags & kFsyncDataOnly) ? ::fdatasync(op.fd) : ::fsync(op.fd));
      }));
    case OpKind::Renameat:
      return as_result(retry_eintr([&] {
        return ::syscall(SYS_renameat2, op.fd, op.path, op.fd2, op.path2,
                         static_cast<unsigned>(op.flags));
      }));
    case OpKind::Unlinkat:
      return as_result(
          retry_eintr([&] { return static_cast<long>(::unlinkat(op.fd, op.path, op.flags)); }));
    case OpKind::Mkdirat:
      return as_result(retry_eintr([&] {
        return static_cast<long>(::mkdirat(op.fd, op.path, static_cast<mode_t>(op.mode)));
      }));
    case OpKind::Statx:
      return as_result(retry_eintr(
          [&] { return ::syscall(SYS_statx, op.fd, op.path, op.flags, op.mode, op.extra); }));
    case OpKind::Connect:
      // Only reached when a non-blocking connect cannot be waited for with epoll (a Unix
      // socket whose listener's backlog is full): the blocking call waits for room instead.
      return as_result(retry_eintr([&] {
        return static_cast<long>(
            ::connect(op.fd, static_cast<const sockaddr*>(op.extra), op.extra_len));
      }));
    default:
      return -EINVAL;
  }
}

Attempt attempt_ready_op(Operation& op, ReadyProgress& progress) {
  switch (op.kind) {
    case OpKind::Read:
    case OpKind::Write:
    case OpKind::Readv:
    case OpKind::Writev:
      return try_stream_rw(op, progress);
    case OpKind::Recv:
    case OpKind::Send:
      return try_send_recv(op);
    case OpKind::Accept:
      return try_accept(op);
    case OpKind::Connect:
      return try_connect(op, progress);
    case OpKind::Poll:
      return try_poll(op);
    case OpKind::Waitid:
      return try_waitid(op, progress);
    default:
      return {-EINVAL, 0};
  }
}

int open_pidfd(std::uint64_t pid) {
  long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0u);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace corral::reactor::epoll_detail
