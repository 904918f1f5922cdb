// TaskScope, when_all and when_any, and cancellation racing completion.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/scope.hpp"
#include "reactor/when_all.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::ReactorTest;

class StructuredTest : public ReactorTest {};

TEST_P(StructuredTest, ScopeJoinsEverySpawnedTask) {
  int finished = 0;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    for (int i = 0; i < 100; ++i) {
      scope.spawn([](int& done, int delay) -> Task<void> {
        co_await sleep_for(std::chrono::microseconds(delay));
        ++done;
      }(finished, i * 10));
    }
    EXPECT_EQ(scope.active(), 100u);
    co_await scope.join();
    EXPECT_EQ(scope.active(), 0u);
  };
  reactor.block_on(body());
  EXPECT_EQ(finished, 100);
}

TEST_P(StructuredTest, ScopeCancellationStopsPendingOperations) {
  int cancelled = 0;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    for (int i = 0; i < 50; ++i) {
      scope.spawn([](std::stop_token stop, int& count) -> Task<void> {
        auto r = co_await sleep_for(60s).with_stop(stop);
        if (!r && r.error() == std::errc::operation_canceled) ++count;
      }(scope.token(), cancelled));
    }
    co_await sleep_for(1ms);
    scope.request_stop();
    co_await scope.join();
  };
  reactor.block_on(body());
  EXPECT_EQ(cancelled, 50);
  EXPECT_EQ(reactor.in_flight(), 0u);
}

TEST_P(StructuredTest, ScopeJoinRethrowsTheFirstFailure) {
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    scope.spawn([]() -> Task<void> {
      co_await nop();
      throw std::runtime_error("spawned task failed");
    }());
    scope.spawn([]() -> Task<void> { co_await nop(); }());
    co_await scope.join();
  };
  EXPECT_THROW(reactor.block_on(body()), std::runtime_error);
}

TEST_P(StructuredTest, WhenAllKeepsOrder) {
  auto make = [](int v, int delay_us) -> Task<int> {
    co_await sleep_for(std::chrono::microseconds(delay_us));
    co_return v;
  };
  std::vector<Task<int>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(make(i, (10 - i) * 100));
  auto values = reactor.block_on(when_all(std::move(tasks)));
  ASSERT_EQ(values.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(values[i], i);
}

TEST_P(StructuredTest, WhenAllHeterogeneous) {
  auto a = []() -> Task<int> { co_return 1; };
  auto b = []() -> Task<std::string> {
    co_await nop();
    co_return "two";
  };
  auto c = []() -> Task<void> { co_await nop(); };
  auto [x, y, z] = reactor.block_on(when_all(a(), b(), c()));
  EXPECT_EQ(x, 1);
  EXPECT_EQ(y, "two");
  (void)z;
}

TEST_P(StructuredTest, WhenAnyReturnsTheFirstAndStopsTheRest) {
  std::stop_source stop;
  auto sleeper = [](std::chrono::milliseconds d, std::stop_token token) -> Task<int> {
    auto r = co_await sleep_for(d).with_stop(token);
    co_return r ? static_cast<int>(d.count()) : -1;
  };
  std::vector<Task<int>> tasks;
  tasks.push_back(sleeper(60s, stop.get_token()));
  tasks.push_back(sleeper(1ms, stop.get_token()));
  tasks.push_back(sleeper(60s, stop.get_token()));
  auto start = std::chrono::steady_clock::now();
  auto any = reactor.block_on(when_any(std::move(tasks), stop));
  EXPECT_EQ(any.index, 1u);
  EXPECT_EQ(any.value, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // the losers really were stopped
  EXPECT_EQ(reactor.in_flight(), 0u);
}

// Cancellation racing completion, many times: every operation completes exactly once, nothing
// stays in flight, and (under ASan) no frame is touched after it is gone.
TEST_P(StructuredTest, CancellationRaceLoop) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  for (int i = 0; i < 500; ++i) {
    std::stop_source stop;
    int completions = 0;
    auto reader = [&]() -> Task<void> {
      char buf[8];
      auto r = co_await read(p[0], buf, sizeof buf)
                   .with_stop(stop.get_token())
                   .with_timeout(std::chrono::microseconds(i % 7 * 50));
      ++completions;
      (void)r;
    };
    auto racer = [&]() -> Task<void> {
      if (i % 3 == 0) {
        [[maybe_unused]] auto n = ::write(p[1], "x", 1);
      }
      if (i % 2 == 0) stop.request_stop();
      co_await nop();
    };
    std::thread remote;
    if (i % 5 == 0) remote = std::thread([&] { stop.request_stop(); });
    reactor.block_on(when_all(reader(), racer()));
    if (remote.joinable()) remote.join();
    EXPECT_EQ(completions, 1);
    EXPECT_EQ(reactor.in_flight(), 0u);
    char drain[64];
    while (::read(p[0], drain, sizeof drain) > 0) {
    }
  }
  ::close(p[0]);
  ::close(p[1]);
}

TEST_P(StructuredTest, PostFromOtherThreadsRunsOnTheOwner) {
  std::thread::id owner = std::this_thread::get_id();
  int ran = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        reactor.post([&] {
          EXPECT_EQ(std::this_thread::get_id(), owner);
          ++ran;
          if (ran == 400) reactor.request_stop();
        });
      }
    });
  }
  reactor.run();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran, 400);
}

TEST_P(StructuredTest, IdleReactorSleepsInTheKernel) {
  // run() with nothing to do must block, not spin: measure this thread's CPU time over an idle
  // period ended by a wake-up from another thread.
  timespec before{}, after{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &before);
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    reactor.request_stop();
  });
  reactor.run();
  stopper.join();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &after);
  double cpu = (after.tv_sec - before.tv_sec) + (after.tv_nsec - before.tv_nsec) / 1e9;
  EXPECT_LT(cpu, 0.1) << "an idle reactor burned " << cpu << " s of CPU in 0.2 s";
}

CORRAL_ALL_BACKENDS(StructuredTest);

}  // namespace
}  // namespace corral::reactor
