// Choosing a backend: io_uring when the kernel allows it, the epoll fallback with a plain
// reason when it does not, and the owner-thread rule enforced.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace corral::reactor {
namespace {

// Makes io_uring_setup fail with `err` in this process, as a container's seccomp profile does.
bool forbid_io_uring_setup(int err) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K,
               SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Runs `body` in a forked child (the filter must not reach the test process); its exit status.
template <class Body>
int in_child(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(BackendChoice, IoUringIsUsedWhenAvailable) {
  Reactor reactor;
  EXPECT_EQ(reactor.backend_kind(), BackendKind::IoUring);
  EXPECT_TRUE(reactor.fallback_reason().empty());
  EXPECT_NE(reactor.features().description.find("io_uring"), std::string::npos);
}

TEST(BackendChoice, FallsBackToEpollWithAPlainReasonWhenIoUringIsForbidden) {
  for (int err : {EPERM, ENOSYS}) {
    int status = in_child([err] {
      if (!forbid_io_uring_setup(err)) return 10;
      Reactor reactor;  // Auto
      if (reactor.backend_kind() != BackendKind::Epoll) return 11;
      const std::string& why = reactor.fallback_reason();
      if (err == EPERM && why.find("kernel.io_uring_disabled") == std::string::npos) return 12;
      if (err == ENOSYS && why.find("seccomp") == std::string::npos) return 13;
      auto r = reactor.block_on([]() -> Task<Result<void>> { co_return co_await nop(); }());
      return r ? 0 : 14;
    });
    EXPECT_EQ(status, 0) << "errno " << err;
  }
}

TEST(BackendChoice, ExplicitIoUringRefusesToFallBack) {
  int status = in_child([] {
    if (!forbid_io_uring_setup(EPERM)) return 10;
    try {
      Reactor reactor(ReactorOptions{.backend = BackendKind::IoUring});
      return 11;
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).find("io_uring") != std::string::npos ? 0 : 12;
    }
  });
  EXPECT_EQ(status, 0);
}

TEST(BackendChoice, OneReactorPerThread) {
  Reactor first;
  EXPECT_THROW(Reactor second, std::logic_error);
}

using BackendChoiceDeathTest = ::testing::Test;

TEST_F(BackendChoiceDeathTest, SubmittingFromAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Reactor reactor;
        Operation op;
        std::thread other([&] { reactor.submit(op); });
        other.join();
      },
      "does not own the reactor");
}

}  // namespace
}  // namespace corral::reactor
