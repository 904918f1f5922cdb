#pragma once
// Linked chains: operations the kernel runs in order, each only if the one before succeeded
// (IOSQE_IO_LINK), submitted together in one system call. The pair below is the one that pays
// for durable files: write the whole buffer, then fsync, in one submission.
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "reactor/operation.hpp"
#include "reactor/reactor.hpp"
#include "reactor/result.hpp"

namespace corral::reactor {

struct WriteSyncResult {
  std::size_t written = 0;
};

class [[nodiscard]] WriteThenFsync {
 public:
  WriteThenFsync(int fd, const void* buffer, std::size_t length, std::uint64_t offset) {
    write_.kind = OpKind::Write;
    write_.fd = fd;
    write_.buffer = const_cast<void*>(buffer);
    write_.length = static_cast<std::uint32_t>(length);
    write_.offset = offset;
    write_.linked_next = &fsync_;
    fsync_.kind = OpKind::Fsync;
    fsync_.fd = fd;
  }
  WriteThenFsync(const WriteThenFsync&) = delete;
  WriteThenFsync& operator=(const WriteThenFsync&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    for (Operation* op : {&write_, &fsync_}) {
      op->owner = this;
      op->complete = &WriteThenFsync::on_complete;
    }
    Reactor::require_current().submit(write_);
  }
  // The bytes written, or the first error. A short write is EIO here: the fsync after it ran
  // on a file that does not hold the whole buffer.
  Result<std::size_t> await_resume() const {
    if (write_.result < 0) return fail(errno_code(-write_.result));
    if (static_cast<std::uint32_t>(write_.result) != write_.length) return fail(errno_code(EIO));
    if (fsync_.result < 0) return fail(errno_code(-fsync_.result));
    return static_cast<std::size_t>(write_.result);
  }

 private:
  static void on_complete(Operation& op) {
    auto* self = static_cast<WriteThenFsync*>(op.owner);
    if (++self->completed_ == 2) self->waiter_.resume();
  }

  Operation write_;
  Operation fsync_;
  int completed_ = 0;
  std::coroutine_handle<> waiter_;
};

inline WriteThenFsync write_then_fsync(int fd, const void* buffer, std::size_t length,
                                       std::uint64_t offset = 0) {
  return WriteThenFsync(fd, buffer, length, offset);
}

}  // namespace corral::reactor
