#include "runtime/supervisor/restart_policy.hpp"

#include <gtest/gtest.h>

namespace corral::supervisor {
namespace {

using std::chrono::milliseconds;

ExitFacts failed(int status = 1, milliseconds ran = milliseconds(5)) {
  ExitFacts f;
  f.shell_status = status;
  f.ran_for = ran;
  return f;
}

TEST(RestartPolicy, ParsesEveryForm) {
  EXPECT_EQ(*RestartPolicy::parse("no"), (RestartPolicy{RestartMode::No, 0}));
  EXPECT_EQ(*RestartPolicy::parse("always"), (RestartPolicy{RestartMode::Always, 0}));
  EXPECT_EQ(*RestartPolicy::parse("unless-stopped"),
            (RestartPolicy{RestartMode::UnlessStopped, 0}));
  EXPECT_EQ(*RestartPolicy::parse("on-failure"), (RestartPolicy{RestartMode::OnFailure, 0}));
  EXPECT_EQ(*RestartPolicy::parse("on-failure:7"), (RestartPolicy{RestartMode::OnFailure, 7}));
  EXPECT_EQ(RestartPolicy::parse("on-failure:7")->to_string(), "on-failure:7");
  EXPECT_EQ(RestartPolicy::parse("unless-stopped")->to_string(), "unless-stopped");
}

TEST(RestartPolicy, RefusesMalformedWithTheReason) {
  for (const char* text : {"sometimes", "on-failure:", "on-failure:x", "on-failure:-1",
                           "on-failure:3x", "on-failure3", "Always"}) {
    auto parsed = RestartPolicy::parse(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::ConfigInvalid);
    EXPECT_NE(parsed.error().message().find(text), std::string::npos) << parsed.error().message();
  }
}

TEST(RestartTracker, NoNeverRestarts) {
  RestartTracker t(RestartPolicy{RestartMode::No, 0});
  EXPECT_FALSE(t.on_exit(failed()));
  EXPECT_EQ(t.total_restarts(), 0u);
}

TEST(RestartTracker, OnFailureRestartsFailuresUpToMaxThenStops) {
  RestartTracker t(RestartPolicy{RestartMode::OnFailure, 2});
  EXPECT_TRUE(t.on_exit(failed(3)));
  EXPECT_TRUE(t.on_exit(failed(3)));
  EXPECT_FALSE(t.on_exit(failed(3)));
  EXPECT_EQ(t.total_restarts(), 2u);
}

TEST(RestartTracker, OnFailureLeavesSuccessAndKillAlone) {
  RestartTracker t(RestartPolicy{RestartMode::OnFailure, 0});
  EXPECT_FALSE(t.on_exit(failed(0)));
  ExitFacts killed = failed(137);
  killed.kill_requested = true;
  EXPECT_FALSE(t.on_exit(killed));
  ExitFacts unknown = failed(0);
  unknown.status_known = false;  // counted as a failure
  EXPECT_TRUE(t.on_exit(unknown));
}

TEST(RestartTracker, AlwaysRestartsEvenSuccessButNotAKill) {
  RestartTracker t(RestartPolicy{RestartMode::Always, 0});
  EXPECT_TRUE(t.on_exit(failed(0)));
  EXPECT_TRUE(t.on_exit(failed(1)));
  ExitFacts killed = failed(143);
  killed.kill_requested = true;
  EXPECT_FALSE(t.on_exit(killed));
}

TEST(RestartTracker, BackoffDoublesUpToTheCap) {
  BackoffSettings b{milliseconds(100), milliseconds(1000), milliseconds(10'000)};
  RestartTracker t(RestartPolicy{RestartMode::Always, 0}, b);
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(t.on_exit(failed())->count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1000, 1000}));
}

TEST(RestartTracker, AStableRunResetsDelayAndBudget) {
  BackoffSettings b{milliseconds(100), milliseconds(10'000), milliseconds(5'000)};
  RestartTracker t(RestartPolicy{RestartMode::OnFailure, 2}, b);
  EXPECT_EQ(t.on_exit(failed(1))->count(), 100);
  EXPECT_EQ(t.on_exit(failed(1))->count(), 200);
  // The budget is spent, but this run lasted long enough to count as healthy.
  auto after_stable = t.on_exit(failed(1, milliseconds(6'000)));
  ASSERT_TRUE(after_stable);
  EXPECT_EQ(after_stable->count(), 100);
  EXPECT_EQ(t.consecutive_restarts(), 1u);
  EXPECT_EQ(t.total_restarts(), 3u);
}

TEST(RestartTracker, ACancelledRestartIsNotCounted) {
  RestartTracker t(RestartPolicy{RestartMode::OnFailure, 2});
  EXPECT_TRUE(t.on_exit(failed()));
  t.cancel_pending();
  EXPECT_EQ(t.total_restarts(), 0u);
  EXPECT_EQ(t.consecutive_restarts(), 0u);
  EXPECT_TRUE(t.on_exit(failed()));
  EXPECT_TRUE(t.on_exit(failed()));
  EXPECT_FALSE(t.on_exit(failed()));
}

TEST(RestartTracker, DaemonStartRules) {
  EXPECT_TRUE(RestartTracker(RestartPolicy{RestartMode::Always, 0}).restart_at_daemon_start(true));
  EXPECT_FALSE(
      RestartTracker(RestartPolicy{RestartMode::UnlessStopped, 0}).restart_at_daemon_start(true));
  EXPECT_TRUE(
      RestartTracker(RestartPolicy{RestartMode::UnlessStopped, 0}).restart_at_daemon_start(false));
  EXPECT_FALSE(
      RestartTracker(RestartPolicy{RestartMode::OnFailure, 0}).restart_at_daemon_start(false));
  EXPECT_FALSE(RestartTracker(RestartPolicy{RestartMode::No, 0}).restart_at_daemon_start(false));
}

}  // namespace
}  // namespace corral::supervisor
