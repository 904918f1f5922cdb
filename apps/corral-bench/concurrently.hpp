#pragma once
// Runs body(i) for i in [0, count) on the current reactor, `concurrency` coroutines at a time:
// how the library peers bound the containers in flight.
#include <algorithm>
#include <functional>

#include "reactor/scope.hpp"
#include "reactor/task.hpp"

namespace corral::bench {

inline reactor::Task<void> for_each_concurrently(int count, int concurrency,
                                                 std::function<reactor::Task<void>(int)> body) {
  int next = 0;
  reactor::TaskScope scope;
  for (int w = 0; w < std::min(count, concurrency); ++w) {
    scope.spawn([](int& next, int count,
                   std::function<reactor::Task<void>(int)>& body) -> reactor::Task<void> {
      while (next < count) co_await body(next++);
    }(next, count, body));
  }
  co_await scope.join();
}

}  // namespace corral::bench
