#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "reactor/linked_ops.hpp"
#include "reactor/ops.hpp"
#include "reactor/scope.hpp"
#include "reactor/semaphore.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::ReactorTest;

class SemaphoreAndChainTest : public ReactorTest {};

TEST_P(SemaphoreAndChainTest, SemaphoreBoundsConcurrency) {
  AsyncSemaphore sem(3);
  int running = 0, peak = 0, done = 0;
  reactor.block_on([&]() -> Task<void> {
    TaskScope scope;
    for (int i = 0; i < 20; ++i) {
      // Coroutine lambdas take their state as parameters: captures would die with the
      // temporary closure while the coroutine is still suspended.
      scope.spawn([](AsyncSemaphore& s, int& now, int& max, int& finished) -> Task<void> {
        auto permit = co_await s.acquire();
        max = std::max(max, ++now);
        co_await sleep_for(200us);
        --now;
        ++finished;
      }(sem, running, peak, done));
    }
    co_await scope.join();
  }());
  EXPECT_EQ(done, 20);
  EXPECT_EQ(peak, 3);
  EXPECT_EQ(sem.available(), 3u);
}

TEST_P(SemaphoreAndChainTest, WriteThenFsyncInOneSubmission) {
  char path[] = "/tmp/corral-chain-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "durable";
  auto r = reactor.block_on([&]() -> Task<Result<std::size_t>> {
    co_return co_await write_then_fsync(fd, text.data(), text.size(), 0);
  }());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, text.size());
  char back[16] = {};
  EXPECT_EQ(::pread(fd, back, sizeof back, 0), static_cast<ssize_t>(text.size()));
  EXPECT_EQ(std::string(back), text);
  ::close(fd);
  ::unlink(path);
}

TEST_P(SemaphoreAndChainTest, ChainStopsAtTheFirstFailure) {
  auto r = reactor.block_on(
      [&]() -> Task<Result<std::size_t>> { co_return co_await write_then_fsync(-1, "x", 1, 0); }());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(reactor.in_flight(), 0u);
}

CORRAL_ALL_BACKENDS(SemaphoreAndChainTest);

}  // namespace
}  // namespace corral::reactor
