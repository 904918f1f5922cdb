#include "reactor/signals.hpp"

#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "reactor/ops.hpp"

namespace corral::reactor {

SignalSet::SignalSet(std::initializer_list<int> signals) {
  sigemptyset(&mask_);
  for (int s : signals) sigaddset(&mask_, s);
  if (int rc = pthread_sigmask(SIG_BLOCK, &mask_, &previous_mask_); rc != 0) {
    throw std::runtime_error(std::string("SignalSet: pthread_sigmask: ") + std::strerror(rc));
  }
  fd_ = ::signalfd(-1, &mask_, SFD_CLOEXEC);
  if (fd_ < 0) {
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    throw std::runtime_error(std::string("SignalSet: signalfd: ") + std::strerror(e));
  }
}

SignalSet::~SignalSet() {
  if (fd_ >= 0) ::close(fd_);
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

Task<Result<int>> SignalSet::next() {
  signalfd_siginfo info{};
  auto n = co_await reactor::read(fd_, &info, sizeof info);
  if (!n) co_return fail(n.error());
  if (*n != sizeof info) co_return fail(errno_code(EIO));
  co_return static_cast<int>(info.ssi_signo);
}

__attribute__((no_sanitize("address"))) void reset_signals_for_exec() noexcept {
  // Raw rt_sigaction: glibc's sigaction wrapper refuses the two signals it reserves for NPTL,
  // which is fine to skip, but the raw call stays async-signal-safe everywhere.
  struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long mask;
  } action{};
  action.handler = SIG_DFL;
  for (int s = 1; s < 65; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    ::syscall(SYS_rt_sigaction, s, &action, nullptr, sizeof(unsigned long));
  }
  unsigned long empty = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, sizeof(unsigned long));
}

}  // namespace corral::reactor
