#include "reactor/ops.hpp"

namespace corral::reactor {
namespace {

Result<void> to_void(const Operation& op, NoPayload&) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return {};
}

Result<std::size_t> to_size(const Operation& op, NoPayload&) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return static_cast<std::size_t>(op.result);
}

Result<int> to_int(const Operation& op, NoPayload&) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return op.result;
}

Result<unsigned> to_events(const Operation& op, NoPayload&) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return static_cast<unsigned>(op.result);
}

Result<void> timer_expired_is_success(const Operation& op, NoPayload&) {
  if (op.result < 0 && op.result != -ETIME) return fail(errno_code(-op.result));
  return {};
}

Result<ChildExit> to_child_exit(const Operation& op, siginfo_t& info) {
  if (op.result < 0) return fail(errno_code(-op.result));
  return ChildExit{info.si_pid, info.si_code, info.si_status};
}

Operation make(OpKind kind, int fd) {
  Operation op;
  op.kind = kind;
  op.fd = fd;
  return op;
}

Operation make_io(OpKind kind, int fd, const void* buffer, std::size_t length,
                  std::uint64_t offset) {
  Operation op = make(kind, fd);
  op.buffer = const_cast<void*>(buffer);
  op.length = static_cast<std::uint32_t>(length > 0x7ffff000 ? 0x7ffff000 : length);
  op.offset = offset;
  return op;
}

}  // namespace

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::Nop:
      return "nop";
    case OpKind::Read:
      return "read";
    case OpKind::Write:
      return "write";
    case OpKind::Readv:
      return "readv";
    case OpKind::Writev:
      return "writev";
    case OpKind::Openat:
      return "openat";
    case OpKind::Close:
      return "close";
    case OpKind::Fsync:
      return "fsync";
    case OpKind::Renameat:
      return "renameat";
    case OpKind::Unlinkat:
      return "unlinkat";
    case OpKind::Mkdirat:
      return "mkdirat";
    case OpKind::Statx:
      return "statx";
    case OpKind::Poll:
      return "poll";
    case OpKind::Waitid:
      return "waitid";
    case OpKind::Timeout:
      return "timeout";
    case OpKind::Accept:
      return "accept";
    case OpKind::Recv:
      return "recv";
    case OpKind::Send:
      return "send";
    case OpKind::Connect:
      return "connect";
    case OpKind::FixedFdInstall:
      return "fixed_fd_install";
  }
  return "unknown";
}

VoidAwaitable nop() {
  return {make(OpKind::Nop, -1), &to_void};
}

SizeAwaitable read(int fd, void* buffer, std::size_t length, std::uint64_t offset) {
  return {make_io(OpKind::Read, fd, buffer, length, offset), &to_size};
}

SizeAwaitable write(int fd, const void* buffer, std::size_t length, std::uint64_t offset) {
  return {make_io(OpKind::Write, fd, buffer, length, offset), &to_size};
}

SizeAwaitable readv(int fd, const iovec* iov, unsigned count, std::uint64_t offset) {
  return {make_io(OpKind::Readv, fd, iov, count, offset), &to_size};
}

SizeAwaitable writev(int fd, const iovec* iov, unsigned count, std::uint64_t offset) {
  return {make_io(OpKind::Writev, fd, iov, count, offset), &to_size};
}

FdAwaitable openat(int dirfd, const char* path, int flags, mode_t mode) {
  Operation op = make(OpKind::Openat, dirfd);
  op.path = path;
  op.flags = flags | O_CLOEXEC;
  op.mode = mode;
  return {op, &to_int};
}

VoidAwaitable close(int fd) {
  return {make(OpKind::Close, fd), &to_void};
}

VoidAwaitable fsync(int fd, bool data_only) {
  Operation op = make(OpKind::Fsync, fd);
  op.flags = data_only ? kFsyncDataOnly : 0;
  return {op, &to_void};
}

VoidAwaitable renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                       unsigned flags) {
  Operation op = make(OpKind::Renameat, olddirfd);
  op.path = oldpath;
  op.fd2 = newdirfd;
  op.path2 = newpath;
  op.flags = static_cast<int>(flags);
  return {op, &to_void};
}

VoidAwaitable unlinkat(int dirfd, const char* path, int flags) {
  Operation op = make(OpKind::Unlinkat, dirfd);
  op.path = path;
  op.flags = flags;
  return {op, &to_void};
}

VoidAwaitable mkdirat(int dirfd, const char* path, mode_t mode) {
  Operation op = make(OpKind::Mkdirat, dirfd);
  op.path = path;
  op.mode = mode;
  return {op, &to_void};
}

VoidAwaitable statx_at(int dirfd, const char* path, int flags, unsigned mask, struct statx* out) {
  Operation op = make(OpKind::Statx, dirfd);
  op.path = path;
  op.flags = flags;
  op.mode = mask;
  op.extra = out;
  return {op, &to_void};
}

OpAwaitable<Result<unsigned>> poll(int fd, unsigned events) {
  Operation op = make(OpKind::Poll, fd);
  op.mode = events;
  return {op, &to_events};
}

OpAwaitable<Result<ChildExit>, siginfo_t> waitid(idtype_t idtype, id_t id, int options) {
  Operation op = make(OpKind::Waitid, -1);
  op.length = static_cast<std::uint32_t>(idtype);
  op.offset = id;
  op.flags = options | WEXITED;
  return {op, &to_child_exit};
}

VoidAwaitable sleep_for(std::chrono::nanoseconds duration) {
  Operation op = make(OpKind::Timeout, -1);
  if (duration.count() < 0) duration = std::chrono::nanoseconds{0};
  op.time.tv_sec = duration.count() / 1'000'000'000;
  op.time.tv_nsec = duration.count() % 1'000'000'000;
  return {op, &timer_expired_is_success};
}

FdAwaitable accept(int fd, int flags) {
  Operation op = make(OpKind::Accept, fd);
  op.flags = flags;
  return {op, &to_int};
}

SizeAwaitable recv(int fd, void* buffer, std::size_t length, int flags) {
  Operation op = make_io(OpKind::Recv, fd, buffer, length, 0);
  op.flags = flags;
  return {op, &to_size};
}

SizeAwaitable send(int fd, const void* buffer, std::size_t length, int flags) {
  Operation op = make_io(OpKind::Send, fd, buffer, length, 0);
  op.flags = flags;
  return {op, &to_size};
}

VoidAwaitable connect_to(int fd, const sockaddr* address, socklen_t length) {
  Operation op = make(OpKind::Connect, fd);
  op.extra = const_cast<sockaddr*>(address);
  op.extra_len = length;
  return {op, &to_void};
}

}  // namespace corral::reactor
