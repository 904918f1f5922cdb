#pragma once
// The awaitable system calls. Each returns its result or the std::error_code built from the
// kernel's -errno. All must be awaited on the thread that owns the current Reactor.
#include <fcntl.h>
#include <linux/stat.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "reactor/op_awaitable.hpp"
#include "reactor/result.hpp"

namespace corral::reactor {

// Reads and writes at the file's current position (pipes, sockets, appends).
inline constexpr std::uint64_t kCurrentPosition = ~std::uint64_t{0};

struct ChildExit {
  pid_t pid = 0;
  int code = 0;    // CLD_EXITED, CLD_KILLED, CLD_DUMPED
  int status = 0;  // exit status or signal number
  // The status a shell would report: the exit status, or 128 + the signal.
  int shell_status() const { return code == CLD_EXITED ? status : 128 + status; }
};

using VoidAwaitable = OpAwaitable<Result<void>>;
using SizeAwaitable = OpAwaitable<Result<std::size_t>>;
using FdAwaitable = OpAwaitable<Result<int>>;

VoidAwaitable nop();
SizeAwaitable read(int fd, void* buffer, std::size_t length,
                   std::uint64_t offset = kCurrentPosition);
SizeAwaitable write(int fd, const void* buffer, std::size_t length,
                    std::uint64_t offset = kCurrentPosition);
SizeAwaitable readv(int fd, const iovec* iov, unsigned count,
                    std::uint64_t offset = kCurrentPosition);
SizeAwaitable writev(int fd, const iovec* iov, unsigned count,
                     std::uint64_t offset = kCurrentPosition);
FdAwaitable openat(int dirfd, const char* path, int flags, mode_t mode = 0);
VoidAwaitable close(int fd);
VoidAwaitable fsync(int fd, bool data_only = false);
VoidAwaitable renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                       unsigned flags = 0);
VoidAwaitable unlinkat(int dirfd, const char* path, int flags = 0);
VoidAwaitable mkdirat(int dirfd, const char* path, mode_t mode);
VoidAwaitable statx_at(int dirfd, const char* path, int flags, unsigned mask, struct statx* out);
// Waits until `fd` is ready for `events` (POLLIN, ...); returns the ready events.
OpAwaitable<Result<unsigned>> poll(int fd, unsigned events);
// waitid(idtype, id, WEXITED | options) on the ring; needs features().native_waitid.
OpAwaitable<Result<ChildExit>, siginfo_t> waitid(idtype_t idtype, id_t id, int options = WEXITED);
// Completes after `duration` (success, not ETIME); cancellable through with_stop.
VoidAwaitable sleep_for(std::chrono::nanoseconds duration);
FdAwaitable accept(int fd, int flags = SOCK_CLOEXEC);
SizeAwaitable recv(int fd, void* buffer, std::size_t length, int flags = 0);
SizeAwaitable send(int fd, const void* buffer, std::size_t length, int flags = MSG_NOSIGNAL);
// `address` must stay valid until the connect completes (it lives in the caller's frame).
VoidAwaitable connect_to(int fd, const sockaddr* address, socklen_t length);

}  // namespace corral::reactor
