// corral-bench's CPU measures (apps/corral-bench/measure.hpp) on this test process itself.
#include "apps/corral-bench/measure.hpp"

#include <time.h>
#include <unistd.h>

#include <map>

#include <gtest/gtest.h>

namespace corral::bench {
namespace {

TEST(RunTimeBetweenTest, CountsNewThreadsFromZeroAndLeavesEndedOnesOut) {
  const std::map<pid_t, double> before{{10, 1.0}, {11, 5.0}};
  const std::map<pid_t, double> after{{10, 1.5}, {12, 0.25}};  // 11 ended, 12 is new
  EXPECT_DOUBLE_EQ(run_time_between(before, after), 0.75);
}

TEST(RunTimeBetweenTest, SeesAFewMillisecondsOfWorkThatClockTicksWouldRoundAway) {
  const std::vector<pid_t> self{::getpid()};
  auto before = thread_run_times(self);
  ASSERT_FALSE(before.empty());
  EXPECT_TRUE(before.count(::getpid()));  // the main thread is one of the tasks
  // 3 ms on the CPU (this thread's own clock, not the wall's: the machine may be busy), a
  // third of one clock tick. Reading that clock also brings the kernel's count up to date.
  auto thread_cpu = [] {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
  };
  const double start = thread_cpu();
  while (thread_cpu() - start < 0.003) {
  }
  const double used = run_time_between(before, thread_run_times(self));
  EXPECT_GE(used, 0.003);
  EXPECT_LT(used, 1.0);
}

}  // namespace
}  // namespace corral::bench
