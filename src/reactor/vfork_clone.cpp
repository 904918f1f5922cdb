#include "reactor/vfork_clone.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>

namespace corral::reactor {
namespace {

// The child's stack: one per thread, kept for the thread's life (the thread is suspended while
// its child uses it, so one is enough). Never unmapped, because a vfork child never returns from
// its frames and a sanitizer would otherwise see stale poison. Below it, an inaccessible page:
// an overflow faults in the child instead of writing into our memory.
char* child_stack_top() {
  constexpr std::size_t kStackSize = 256 * 1024;
  thread_local char* top = nullptr;
  if (top == nullptr) {
    const std::size_t guard = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* base = ::mmap(nullptr, guard + kStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    if (::mprotect(base, guard, PROT_NONE) < 0) {
      ::munmap(base, guard + kStackSize);
      return nullptr;
    }
    top = static_cast<char*>(base) + guard + kStackSize;
  }
  return top;
}

// Every signal, glibc's own two included (pthread_sigmask leaves those open), as posix_spawn
// blocks them: no handler may run in the child while it shares our memory.
void set_signal_mask(const std::uint64_t* mask, std::uint64_t* previous) {
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, mask, previous, sizeof *mask);
}

}  // namespace

int vfork_clone(int (*entry)(void*), void* arg, unsigned long flags, int* pidfd) {
  // glibc's clone takes an int, and its low byte is the exit signal: a flag above 32 bits or in
  // that byte (CLONE_NEWTIME is 0x80) would be lost or taken for a signal.
  if ((flags & (CSIGNAL | ~0xffffffffUL)) != 0) {
    errno = EINVAL;
    return -1;
  }
  char* stack_top = child_stack_top();
  if (stack_top == nullptr) {
    errno = ENOMEM;
    return -1;
  }
  const std::uint64_t all = ~std::uint64_t{0};
  std::uint64_t previous = 0;
  set_signal_mask(&all, &previous);
  int pid = ::clone(entry, stack_top, static_cast<int>(flags | CLONE_VM | CLONE_VFORK | SIGCHLD),
                    arg, pidfd);
  int clone_errno = errno;
  set_signal_mask(&previous, nullptr);
  errno = clone_errno;
  return pid;
}

}  // namespace corral::reactor
