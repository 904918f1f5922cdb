// The io_uring backend: one ring, used from its owner thread only.
#include <fcntl.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "reactor/backend.hpp"
#include "reactor/uring_compat.hpp"

namespace corral::reactor {
namespace {

// user_data values that carry no operation: completions of cancel requests.
constexpr __u64 kIgnoredCompletion = 0;
// Low bit tag: the completion of an operation's linked timeout.
constexpr __u64 kLinkTimeoutTag = 1;

constexpr int kRequiredOps[] = {
    IORING_OP_NOP,      IORING_OP_READ,     IORING_OP_WRITE,        IORING_OP_READV,
    IORING_OP_WRITEV,   IORING_OP_OPENAT,   IORING_OP_CLOSE,        IORING_OP_FSYNC,
    IORING_OP_RENAMEAT, IORING_OP_UNLINKAT, IORING_OP_MKDIRAT,      IORING_OP_STATX,
    IORING_OP_POLL_ADD, IORING_OP_TIMEOUT,  IORING_OP_LINK_TIMEOUT, IORING_OP_ASYNC_CANCEL,
    IORING_OP_ACCEPT,   IORING_OP_RECV,     IORING_OP_SEND,         IORING_OP_CONNECT,
};

std::string describe_setup_flags(unsigned flags) {
  std::string out;
  auto add = [&](unsigned bit, const char* name) {
    if (flags & bit) out += out.empty() ? name : std::string("|") + name;
  };
  add(IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER");
  add(IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN");
  add(IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN");
  add(IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL");
  return out.empty() ? "no setup flags" : out;
}

class UringBackend final : public Backend {
 public:
  ~UringBackend() override {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // Returns an empty string on success, else why io_uring cannot be used.
  std::string init(unsigned queue_depth) {
    // Waits that stay pending (one per child) occupy no CQ slot until they finish; the CQ is
    // sized for a burst of finishing ones, and IORING_FEAT_NODROP keeps any overflow in the
    // kernel until we reap it.
    const unsigned cq_entries = queue_depth * 16;
    const unsigned preferred[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SUBMIT_ALL,
        0,
    };
    int err = 0;
    for (unsigned flags : preferred) {
      io_uring_params params{};
      params.flags = flags | IORING_SETUP_CQSIZE;
      params.cq_entries = cq_entries;
      err = io_uring_queue_init_params(queue_depth, &ring_, &params);
      if (err == 0) {
        setup_flags_ = flags;
        if (!(params.features & IORING_FEAT_NODROP))
          return finish_failed("the kernel lacks IORING_FEAT_NODROP (Linux 5.5)");
        break;
      }
      if (err != -EINVAL) break;
    }
    if (err != 0) return explain_setup_error(-err);
    ring_ready_ = true;
    // A forked child must never touch the ring; keep its mappings out of children entirely.
    io_uring_ring_dontfork(&ring_);
    if (std::string missing = probe(); !missing.empty()) return missing;

    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) return std::string("eventfd: ") + std::strerror(errno);
    arm_wake();

    features_.description = "io_uring (" + describe_setup_flags(setup_flags_) +
                            (features_.native_waitid ? ", WAITID" : ", no WAITID: pidfd poll") +
                            ")";
    return {};
  }

  void submit(Operation& first) override {
    for (Operation* op = &first; op != nullptr; op = op->linked_next) {
      io_uring_sqe* sqe = next_sqe();
      prepare(*sqe, *op);
      op->in_flight = true;
      op->pending_completions = 1;
      unsigned sqe_flags = 0;
      if (op->linked_next != nullptr || op->has_deadline) sqe_flags |= IOSQE_IO_LINK;
      if (op->fixed_file) sqe_flags |= IOSQE_FIXED_FILE;
      io_uring_sqe_set_flags(sqe, sqe_flags);
      io_uring_sqe_set_data64(sqe, reinterpret_cast<__u64>(op));
      if (op->has_deadline) {
        io_uring_sqe* timeout = next_sqe();
        io_uring_prep_link_timeout(timeout, &op->time, 0);
        io_uring_sqe_set_data64(timeout, reinterpret_cast<__u64>(op) | kLinkTimeoutTag);
        if (op->linked_next != nullptr) io_uring_sqe_set_flags(timeout, IOSQE_IO_LINK);
        op->pending_completions = 2;
      }
    }
  }

  void cancel(Operation& op) override {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel64(sqe, reinterpret_cast<__u64>(&op), 0);
    io_uring_sqe_set_data64(sqe, kIgnoredCompletion);
  }

  int run_once(bool block) override {
    int rc = block ? io_uring_submit_and_wait(&ring_, 1) : io_uring_submit_and_get_events(&ring_);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
      std::fprintf(stderr, "corral reactor: io_uring_enter failed: %s\n", std::strerror(-rc));
      std::abort();
    }
    int completed = 0;
    for (;;) {
      // Copy a batch out and advance the CQ before resuming anyone: a resumed coroutine may
      // submit, or even finish the reactor's current step, while we are still iterating.
      std::array<io_uring_cqe*, 256> cqes;
      unsigned n = io_uring_peek_batch_cqe(&ring_, cqes.data(), cqes.size());
      if (n == 0) break;
      std::array<std::pair<__u64, int>, 256> batch;
      for (unsigned i = 0; i < n; ++i) batch[i] = {cqes[i]->user_data, cqes[i]->res};
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i) completed += dispatch(batch[i].first, batch[i].second);
    }
    return completed;
  }

  void wake() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  const BackendFeatures& features() const override { return features_; }

  int register_direct_table(unsigned slots) override {
    return io_uring_register_files_sparse(&ring_, slots);
  }

  int set_direct_slot(unsigned slot, int fd) override {
    int rc = io_uring_register_files_update(&ring_, slot, &fd, 1);
    return rc < 0 ? rc : 0;
  }

  int unregister_direct_table() override { return io_uring_unregister_files(&ring_); }

 private:
  std::string finish_failed(std::string why) { return why; }

  static std::string explain_setup_error(int err) {
    std::string why = std::string("io_uring_setup failed: ") + std::strerror(err);
    if (err == EPERM) {
      why +=
          " (io_uring is disabled: see sysctl kernel.io_uring_disabled, or a seccomp filter "
          "or container policy forbids io_uring_setup)";
    } else if (err == ENOSYS) {
      why += " (the kernel was built without io_uring, or a seccomp filter returns ENOSYS)";
    } else if (err == ENOMEM) {
      why += " (RLIMIT_MEMLOCK too small for the ring on this kernel)";
    }
    return why;
  }

  std::string probe() {
    io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
    if (probe == nullptr) return "io_uring probe failed: the kernel is older than 5.6";
    std::string missing;
    for (int op : kRequiredOps) {
      if (!io_uring_opcode_supported(probe, op))
        missing += (missing.empty() ? "" : ", ") + std::to_string(op);
    }
    features_.native_waitid = io_uring_opcode_supported(probe, uring_compat::kOpWaitid);
    io_uring_free_probe(probe);
    if (!missing.empty()) return "io_uring lacks required opcodes: " + missing;
    return {};
  }

  io_uring_sqe* next_sqe() {
    // A full submission queue is submitted and retried; nothing is dropped.
    for (;;) {
      if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
      int rc = io_uring_submit(&ring_);
      if (rc < 0 && rc != -EBUSY && rc != -EAGAIN && rc != -EINTR) {
        std::fprintf(stderr, "corral reactor: io_uring_submit failed: %s\n", std::strerror(-rc));
        std::abort();
      }
      if (rc <= 0) io_uring_get_events(&ring_);
    }
  }

  void prepare(io_uring_sqe& sqe, Operation& op) {
    switch (op.kind) {
      case OpKind::Nop:
        io_uring_prep_nop(&sqe);
        break;
      case OpKind::Read:
        io_uring_prep_read(&sqe, op.fd, op.buffer, op.length, op.offset);
        break;
      case OpKind::Write:
        io_uring_prep_write(&sqe, op.fd, op.buffer, op.length, op.offset);
        break;
      case OpKind::Readv:
        io_uring_prep_readv(&sqe, op.fd, static_cast<const iovec*>(op.buffer), op.length,
                            op.offset);
        break;
      case OpKind::Writev:
        io_uring_prep_writev(&sqe, op.fd, static_cast<const iovec*>(op.buffer), op.length,
                             op.offset);
        break;
      case OpKind::Openat:
        io_uring_prep_openat(&sqe, op.fd, op.path, op.flags, op.mode);
        break;
      case OpKind::Close:
        io_uring_prep_close(&sqe, op.fd);
        break;
      case OpKind::Fsync:
        io_uring_prep_fsync(&sqe, op.fd, static_cast<unsigned>(op.flags));
        break;
      case OpKind::Renameat:
        io_uring_prep_renameat(&sqe, op.fd, op.path, op.fd2, op.path2,
                               static_cast<unsigned>(op.flags));
        break;
      case OpKind::Unlinkat:
        io_uring_prep_unlinkat(&sqe, op.fd, op.path, op.flags);
        break;
      case OpKind::Mkdirat:
        io_uring_prep_mkdirat(&sqe, op.fd, op.path, op.mode);
        break;
      case OpKind::Statx:
        io_uring_prep_statx(&sqe, op.fd, op.path, op.flags, op.mode,
                            static_cast<struct statx*>(op.extra));
        break;
      case OpKind::Poll:
        io_uring_prep_poll_add(&sqe, op.fd, op.mode);
        break;
      case OpKind::Waitid:
        uring_compat::prep_waitid(&sqe, static_cast<idtype_t>(op.length),
                                  static_cast<id_t>(op.offset), static_cast<siginfo_t*>(op.extra),
                                  op.flags);
        break;
      case OpKind::Timeout:
        io_uring_prep_timeout(&sqe, &op.time, 0, 0);
        break;
      case OpKind::Accept:
        io_uring_prep_accept(&sqe, op.fd, static_cast<sockaddr*>(op.extra),
                             static_cast<socklen_t*>(op.buffer), op.flags);
        break;
      case OpKind::Recv:
        io_uring_prep_recv(&sqe, op.fd, op.buffer, op.length, op.flags);
        break;
      case OpKind::Send:
        io_uring_prep_send(&sqe, op.fd, op.buffer, op.length, op.flags);
        break;
      case OpKind::Connect:
        io_uring_prep_connect(&sqe, op.fd, static_cast<const sockaddr*>(op.extra), op.extra_len);
        break;
      case OpKind::FixedFdInstall:
        uring_compat::prep_fixed_fd_install(&sqe, op.fd);
        break;
    }
  }

  int dispatch(__u64 user_data, int res) {
    if (user_data == kIgnoredCompletion) return 0;
    if (user_data & kLinkTimeoutTag) {
      auto* op = reinterpret_cast<Operation*>(user_data & ~kLinkTimeoutTag);
      if (res == -ETIME) op->timed_out = true;
      return finish_one(*op);
    }
    auto* op = reinterpret_cast<Operation*>(user_data);
    op->result = res;
    return finish_one(*op);
  }

  // An operation completes only when every CQE it is owed has arrived, so its frame cannot go
  // away while the kernel may still write to it.
  static int finish_one(Operation& op) {
    if (--op.pending_completions > 0) return 0;
    op.in_flight = false;
    const bool counted = !op.internal;
    op.complete(op);
    return counted ? 1 : 0;
  }

  void arm_wake() {
    wake_op_.kind = OpKind::Read;
    wake_op_.fd = wake_fd_;
    wake_op_.buffer = &wake_value_;
    wake_op_.length = sizeof wake_value_;
    wake_op_.offset = 0;
    wake_op_.owner = this;
    wake_op_.internal = true;
    wake_op_.complete = [](Operation& op) {
      // The read itself is the wake-up; re-arm for the next one unless the ring is going away.
      auto* self = static_cast<UringBackend*>(op.owner);
      if (op.result != -ECANCELED) self->arm_wake();
    };
    submit(wake_op_);
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;
  int wake_fd_ = -1;
  std::uint64_t wake_value_ = 0;
  Operation wake_op_;
  BackendFeatures features_;
};

}  // namespace

std::unique_ptr<Backend> make_uring_backend(unsigned queue_depth, std::string& why_not) {
  auto backend = std::make_unique<UringBackend>();
  why_not = backend->init(queue_depth);
  if (!why_not.empty()) return nullptr;
  return backend;
}

}  // namespace corral::reactor
