// write_without_sigpipe: a pipe whose reader is gone is EPIPE, never a SIGPIPE.
#include "runtime/quiet_pipe_write.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace corral {
namespace {

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

TEST(QuietPipeWrite, ReaderGoneIsEpipeAndNoSignalIsLeft) {
  // SIGPIPE at its default disposition: a stray one would kill this test binary.
  struct sigaction old_action {
  }, default_action{};
  default_action.sa_handler = SIG_DFL;
  ASSERT_EQ(sigaction(SIGPIPE, &default_action, &old_action), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  errno = 0;
  EXPECT_EQ(write_without_sigpipe(fds[1], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_FALSE(sigpipe_pending());
  ::close(fds[1]);
  sigaction(SIGPIPE, &old_action, nullptr);
}

TEST(QuietPipeWrite, WritesWhenTheReaderIsThere) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_EQ(write_without_sigpipe(fds[1], "ab", 2), 2);
  char got[2] = {};
  EXPECT_EQ(::read(fds[0], got, 2), 2);
  EXPECT_EQ(got[0], 'a');
  EXPECT_EQ(got[1], 'b');
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(QuietPipeWrite, LeavesTheSignalMaskAsItWas) {
  sigset_t before, after;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  (void)write_without_sigpipe(fds[1], "x", 1);
  ::close(fds[1]);
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&before, SIGPIPE), sigismember(&after, SIGPIPE));
}

}  // namespace
}  // namespace corral
