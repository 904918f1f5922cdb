#pragma once
// FileTable: descriptors held outside the process's fd table, as io_uring direct descriptors.
//
// The fd budget rule
// ------------------
// A process may have at most RLIMIT_NOFILE open fds, and on our hosts the hard limit (20,000)
// cannot be raised. corrald's keeper reads two pipes per container (stdout, stderr), so 10,000
// containers would need 20,000 fds on their own. A ring's registered-file table ("direct
// descriptors") does not count against the fd table; its size is capped by the soft
// RLIMIT_NOFILE (io_uring refuses a larger table), not by the fds in use. So:
//   - long-lived descriptors that are only read on the ring (container pipes) are *held* in a
//     FileTable: they become direct descriptors and their ordinary fds are closed at once;
//   - when the table is full, or the reactor runs the epoll fallback (which has no table), the
//     ordinary fd is kept instead; reads and release work the same either way, so callers never
//     care which they got (is_direct() is for tests and statistics);
//   - everything else (sockets of the control plane, files opened for a moment, pidfds) stays an
//     ordinary fd, and the ordinary fds a process keeps must stay far below the limit: with a
//     full direct table the keeper's own fd table stays at a few dozen entries.
// Held ordinary fds are made close-on-exec; direct descriptors never reach a child at all.
//
// Lifetime and operations in flight
// ----------------------------------
// A HeldFile (held_file.hpp) is a small copyable name: slot or fd, a direct flag, and a ticket.
// The FileTable owns what every HeldFile names: release() gives one back, and destroying the
// table gives back everything still held, so nothing leaks even if a caller forgets. Each hold
// gets a new ticket; a HeldFile whose ticket no longer matches its entry (released, or the slot
// held anew) is stale, and operations on it fail with EBADF without reaching the kernel.
// A slot (or an ordinary fd) is never reused while an operation on it (read, install) is in
// flight: each one awaited on a HeldFile links itself to the table's entry until it has resumed
// (held_op_awaitable.hpp). release() of an entry with operations in flight cancels them and only
// marks the entry; the slot is emptied (or the fd closed) by the last of them as it completes,
// and until then no hold() can get it and no new operation starts on it.
// A FileTable must be destroyed with nothing in flight on it (it aborts otherwise, as a Reactor
// does), on its owner thread, before its Reactor.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "reactor/held_file.hpp"
#include "reactor/held_op_awaitable.hpp"
#include "reactor/ops.hpp"
#include "reactor/result.hpp"

namespace corral::reactor {

class FileTable {
 public:
  // Registers a sparse table of `capacity` slots on the current reactor's ring. The capacity is
  // clamped to the soft RLIMIT_NOFILE (raised to the hard limit first when lower), since the
  // kernel refuses a larger table; capacity() and describe() report the clamp. On the epoll
  // backend, or when the kernel refuses the table, the FileTable still works and holds ordinary
  // fds only (capacity() == 0, describe() says why). Fails with EBUSY when the current reactor
  // already has a FileTable, and needs a current Reactor (owner thread).
  static Result<FileTable> open(unsigned capacity);

  FileTable(FileTable&&) noexcept;
  FileTable& operator=(FileTable&&) noexcept;
  ~FileTable();

  // Takes ownership of the ordinary `fd`: on success the fd must no longer be used or closed by
  // the caller. It becomes a direct descriptor (and the ordinary fd is closed) while a slot is
  // free, else it is kept as an ordinary fd (made close-on-exec). Fails with EBADF, leaving
  // nothing changed, when `fd` is not open.
  Result<HeldFile> hold(int fd);
  // Gives back what `file` names: empties the slot or closes the fd. Reads in flight on it are
  // cancelled and the slot stays taken until they have completed. Releasing a stale or empty
  // HeldFile does nothing.
  void release(const HeldFile& file);

  // Slots the table has (0 without a table), and what open() was asked for.
  unsigned capacity() const;
  unsigned requested_capacity() const;
  // Taken slots and held ordinary fds, counting entries whose release waits for an operation.
  std::size_t direct_count() const;
  std::size_t ordinary_count() const;
  // One line: the capacity, the clamp and its reason, or why there is no table.
  const std::string& describe() const;

 private:
  explicit FileTable(std::unique_ptr<detail::FileTableState> state);
  // Heap state: operations in flight point at it, and it must not move with the FileTable.
  std::unique_ptr<detail::FileTableState> state_;
};

// Reads from the file's current position (pipes: whatever is there, 0 at EOF): IOSQE_FIXED_FILE
// on a direct slot, the ordinary read on an fd. Cancellable and time-limited like every operation
// (with_stop, with_timeout); EBADF on a stale HeldFile.
HeldOpAwaitable<Result<std::size_t>> read(const HeldFile& file, void* buffer, std::size_t length);

// Waits until the file is ready for `events` (POLLIN, ...), like poll(fd, events).
HeldOpAwaitable<Result<unsigned>> poll(const HeldFile& file, unsigned events);

// A new ordinary fd (close-on-exec) for the file `file` names, which stays held: the caller owns
// the returned fd. A direct slot is installed with IORING_OP_FIXED_FD_INSTALL (Linux 6.8; older
// kernels answer EINVAL), an ordinary fd is duplicated. For handing a held pipe to something that
// needs an fd (a child's stdio, another process over SCM_RIGHTS).
HeldOpAwaitable<Result<int>> install(const HeldFile& file);

}  // namespace corral::reactor
