#include "reactor/task.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace corral::reactor {
namespace {

Task<int> ready_value(int v) {
  co_return v;
}
Task<void> throws() {
  throw std::runtime_error("boom");
  co_return;
}

std::uintptr_t stack_address() {
  volatile char marker = 0;
  return reinterpret_cast<std::uintptr_t>(&marker);
}

TEST(Task, IsLazyAndReturnsItsValue) {
  Reactor reactor;
  bool started = false;
  auto make = [&]() -> Task<int> {
    started = true;
    co_return 42;
  };
  Task<int> t = make();
  EXPECT_FALSE(started);
  EXPECT_EQ(reactor.block_on(std::move(t)), 42);
  EXPECT_TRUE(started);
}

TEST(Task, PropagatesExceptions) {
  Reactor reactor;
  EXPECT_THROW(reactor.block_on(throws()), std::runtime_error);
}

TEST(Task, ResumesAfterAsynchronousCompletion) {
  Reactor reactor;
  auto inner = []() -> Task<int> {
    auto r = co_await nop();
    co_return r ? 7 : -1;
  };
  auto outer = [&]() -> Task<int> { co_return co_await inner() + 1; };
  EXPECT_EQ(reactor.block_on(outer()), 8);
}

// A million awaits of tasks that finish without suspending must not grow the stack, in every
// build type (g++ 12 does not make symmetric transfer a tail call at -O0 or under ASan).
TEST(Task, MillionReadyAwaitsDoNotGrowTheStack) {
  Reactor reactor;
  auto loop = []() -> Task<std::uintptr_t> {
    std::uintptr_t lowest = stack_address();
    std::uintptr_t highest = lowest;
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) {
      sum += co_await ready_value(1);
      std::uintptr_t here = stack_address();
      lowest = std::min(lowest, here);
      highest = std::max(highest, here);
    }
    EXPECT_EQ(sum, 1'000'000);
    co_return highest - lowest;
  };
  EXPECT_LT(reactor.block_on(loop()), 4096u);
}

TEST(Task, MovedFromTaskIsInvalid) {
  Task<int> a = ready_value(1);
  Task<int> b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(b.valid());
}

}  // namespace
}  // namespace corral::reactor
