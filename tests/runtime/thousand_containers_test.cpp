// 1,000 real containers created, started and waited concurrently from one reactor thread, each
// with the default config's namespaces (pid, network, ipc, uts, mount) and its own cgroup;
// every exit status checked and nothing left behind.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "reactor/reactor.hpp"
#include "reactor/semaphore.hpp"
#include "reactor/when_all.hpp"
#include "real_container_fixture.hpp"

namespace corral {
namespace {

// The sanitizer build checks the same code paths for memory errors; there every process (the
// inits included) runs several times slower, so it makes fewer containers to stay within the
// suite's CI timeout.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kContainers = 200;
#else
constexpr int kContainers = 1000;
#endif
constexpr std::size_t kMaxInFlight = 128;

class ThousandContainersTest : public testing::RealContainerTest {};

// Container i runs `true` (status 0) when i is even, else `sh -c 'exit N'` with N = i % 120 + 1.
int expected_status(int i) {
  return i % 2 == 0 ? 0 : i % 120 + 1;
}

TEST_F(ThousandContainersTest, CreatedStartedAndWaitedFromOneReactorThread) {
  // Each container in flight holds its pidfd and the init pipe, and briefly a few more during
  // its launch; the bound keeps the total far below the fd limit whatever the limit is. It also
  // keeps each container's setup from queueing behind all the others on a loaded machine (with
  // 1,000 at once on 2 busy cores, some inits missed the 60 s setup timeout).
  rlimit nofile{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &nofile), 0);
  const std::size_t in_flight =
      std::min<std::size_t>(kMaxInFlight, std::max<rlim_t>(16, nofile.rlim_cur / 16));
  reactor::AsyncSemaphore permits(in_flight);
  const int children_before = testing::count_own_children();

  Config base = rootfs_.config({"true"});
  base.linux_spec.namespaces.push_back({NamespaceType::Network, ""});
  Factory& factory = *factory_;
  auto one = [&](int i) -> reactor::Task<int> {
    auto permit = co_await permits.acquire();
    Config config = base;
    if (i % 2 != 0)
      config.process->args = {"sh", "-c", "exit " + std::to_string(expected_status(i))};
    auto c = factory.create_container("c" + std::to_string(i), std::move(config));
    if (!c) {
      ADD_FAILURE() << c.error().what();
      co_return -1;
    }
    auto ran = co_await (*c)->run();
    if (!ran) {
      ADD_FAILURE() << ran.error().what();
      co_return -2;
    }
    auto exit = co_await (*c)->wait();
    auto destroyed = co_await (*c)->destroy();
    if (!exit || !destroyed) {
      ADD_FAILURE() << (!exit ? exit.error().what() : destroyed.error().what());
      co_return -3;
    }
    co_return shell_status(*exit);
  };

  reactor::Reactor reactor;
  auto started = std::chrono::steady_clock::now();
  std::vector<reactor::Task<int>> tasks;
  tasks.reserve(kContainers);
  for (int i = 0; i < kContainers; ++i) tasks.push_back(one(i));
  auto results = reactor.block_on(reactor::when_all(std::move(tasks)));
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  // Informational only (timings are never asserted).
  std::printf("%d containers, at most %zu in flight: %.1f s\n", kContainers, in_flight,
              elapsed.count());

  ASSERT_EQ(results.size(), static_cast<std::size_t>(kContainers));
  int wrong = 0;
  for (int i = 0; i < kContainers; ++i) {
    if (results[i] != expected_status(i) && ++wrong <= 10)
      ADD_FAILURE() << "container c" << i << ": status " << results[i] << ", expected "
                    << expected_status(i);
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(testing::count_dir_entries(root_), 0) << "state directories left in " << root_;
  EXPECT_EQ(leftover_cgroups(), 0);
  EXPECT_EQ(testing::count_own_children(), children_before);
}

}  // namespace
}  // namespace corral
