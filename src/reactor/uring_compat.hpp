#pragma once
// Opcodes newer than Debian 12's liburing 2.3, prepared by hand. The kernel's ABI is stable, so
// the numbers and field uses below are fixed forever.
#include <liburing.h>
#include <sys/wait.h>

namespace corral::reactor::uring_compat {

inline constexpr int kOpReadMultishot = 49;   // IORING_OP_READ_MULTISHOT, Linux 6.7
inline constexpr int kOpWaitid = 50;          // IORING_OP_WAITID, Linux 6.7
inline constexpr int kOpFixedFdInstall = 54;  // IORING_OP_FIXED_FD_INSTALL, Linux 6.8

// waitid(idtype, id, info, options) as io_uring_prep_waitid of liburing >= 2.6 does it:
// fd = id, len = idtype, file_index = options, addr2 = siginfo_t*, waitid_flags (the rw_flags
// slot) must be zero, addr must be zero.
inline void prep_waitid(io_uring_sqe* sqe, idtype_t idtype, id_t id, siginfo_t* info, int options) {
  io_uring_prep_rw(kOpWaitid, sqe, static_cast<int>(id), nullptr, static_cast<unsigned>(idtype), 0);
  sqe->rw_flags = 0;
  sqe->file_index = static_cast<__u32>(options);
  sqe->addr2 = reinterpret_cast<__u64>(info);
}

// Installs the direct descriptor `slot` as a new ordinary fd, close-on-exec, as
// io_uring_prep_fixed_fd_install of liburing >= 2.6 does it: fd = the slot, install_fd_flags (the
// rw_flags slot) = 0 for O_CLOEXEC (IORING_FIXED_FD_NO_CLOEXEC is 1), every other field zero. The
// kernel insists on IOSQE_FIXED_FILE, which the backend sets from Operation::fixed_file.
inline void prep_fixed_fd_install(io_uring_sqe* sqe, int slot) {
  io_uring_prep_rw(kOpFixedFdInstall, sqe, slot, nullptr, 0, 0);
  sqe->rw_flags = 0;
}

}  // namespace corral::reactor::uring_compat
