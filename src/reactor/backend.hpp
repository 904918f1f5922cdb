#pragma once
// Backend: what a reactor needs from a kernel interface. Two exist: io_uring (the real one) and
// an epoll fallback built on Asio for hosts where io_uring is disabled or filtered.
#include <cerrno>
#include <memory>
#include <string>
#include <string_view>

#include "reactor/operation.hpp"

namespace corral::reactor {

enum class BackendKind { Auto, IoUring, Epoll };

struct BackendFeatures {
  bool native_waitid = false;  // waits on a child without a pidfd (IORING_OP_WAITID)
  std::string description;     // e.g. "io_uring (SINGLE_ISSUER|DEFER_TASKRUN)"
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Starts `op` and every operation linked after it. Owner thread only.
  virtual void submit(Operation& op) = 0;
  // Asks an in-flight operation to finish early; it still completes (with -ECANCELED or its
  // real result if it raced). Owner thread only.
  virtual void cancel(Operation& op) = 0;
  // Submits pending work and completes what is ready; with `block`, sleeps in the kernel until
  // at least one completion or a wake(). Returns the number of operations completed.
  virtual int run_once(bool block) = 0;
  // Interrupts a blocking run_once from any thread.
  virtual void wake() = 0;
  virtual const BackendFeatures& features() const = 0;

  // Direct descriptors: the ring's table of registered files (see file_table.hpp). Results are
  // syscall-style (>= 0 or -errno); a backend without such a table (epoll) answers -EOPNOTSUPP.
  // Owner thread only.
  virtual int register_direct_table(unsigned /*slots*/) { return -EOPNOTSUPP; }
  // Puts `fd` into `slot` (the table takes its own reference), or empties the slot with fd -1.
  virtual int set_direct_slot(unsigned /*slot*/, int /*fd*/) { return -EOPNOTSUPP; }
  virtual int unregister_direct_table() { return -EOPNOTSUPP; }
};

std::unique_ptr<Backend> make_uring_backend(unsigned queue_depth, std::string& why_not);
std::unique_ptr<Backend> make_epoll_backend();

}  // namespace corral::reactor
