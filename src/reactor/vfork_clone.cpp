#include "reactor/vfork_clone.hpp"

#include <sched.h>
#include <sys/mman.h>

#include <cerrno>
#include <csignal>
#include <cstddef>

namespace corral::reactor {
namespace {

// The child's stack: one per thread, kept for the thread's life (the thread is suspended while
// its child uses it, so one is enough). Never unmapped, because a vfork child never returns from
// its frames and a sanitizer would otherwise see stale poison.
char* child_stack_top() {
  constexpr std::size_t kStackSize = 256 * 1024;
  thread_local char* top = nullptr;
  if (top == nullptr) {
    void* base = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    top = static_cast<char*>(base) + kStackSize;
  }
  return top;
}

}  // namespace

int vfork_clone(int (*entry)(void*), void* arg, unsigned long flags, int* pidfd) {
  char* stack_top = child_stack_top();
  if (stack_top == nullptr) {
    errno = ENOMEM;
    return -1;
  }
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pid = ::clone(entry, stack_top, static_cast<int>(flags | CLONE_VM | CLONE_VFORK | SIGCHLD),
                    arg, pidfd);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = clone_errno;
  return pid;
}

}  // namespace corral::reactor
