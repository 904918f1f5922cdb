// corral update and corral events, end to end: the limits reach the cgroup files and
// state.json; events --stats reads the cgroup's accounting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "cli/container_cli_fixture.hpp"

namespace corral::cli {
namespace {

using testing::ContainerCliTest;
using testing::CorralOptions;
using ::testing::HasSubstr;
using testing::Outcome;

class UpdateEventsTest : public ContainerCliTest {
 protected:
  // A cgroup file of the container, found through the paths state.json records.
  std::string cgroup_file(const std::string& id, const std::string& controller,
                          const std::string& name) {
    nlohmann::json s = state_file(id);
    std::string dir = s["cgroup_paths"].value(controller, "");
    EXPECT_FALSE(dir.empty()) << "no " << controller << " cgroup in " << s.dump();
    std::string text = corral::testing::read_file(dir + "/" + name);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }
};

TEST_F(UpdateEventsTest, UpdateWritesTheCgroupAndRecordsTheResources) {
  const std::string id = make_id("update");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;

  Outcome updated = corral({"update", "--memory", "64m", "--pids-limit", "42", "--cpu-shares",
                            "512", "--cpu-quota", "20000", "--cpu-period", "100000", id});
  ASSERT_EQ(updated.status, 0) << updated.err;
  EXPECT_EQ(cgroup_file(id, "memory", "memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(cgroup_file(id, "pids", "pids.max"), "42");
  EXPECT_EQ(cgroup_file(id, "cpu", "cpu.shares"), "512");
  EXPECT_EQ(cgroup_file(id, "cpu", "cpu.cfs_quota_us"), "20000");

  // -r from stdin; the earlier fields stay recorded beside the new one.
  testing::TempDir dir;
  CorralOptions from_stdin;
  from_stdin.stdin_path = dir.write("resources.json", R"({"pids":{"limit":17}})");
  Outcome by_file = corral({"update", "-r", "-", id}, from_stdin);
  ASSERT_EQ(by_file.status, 0) << by_file.err;
  EXPECT_EQ(cgroup_file(id, "pids", "pids.max"), "17");
  nlohmann::json recorded = state_file(id)["config"]["resources"];
  EXPECT_EQ(recorded["pids"]["limit"], 17) << recorded.dump();
  EXPECT_EQ(recorded["memory"]["limit"], 64 << 20) << recorded.dump();
  EXPECT_EQ(recorded["cpu"]["shares"], 512) << recorded.dump();

  Outcome bad = corral({"update", "--pids-limit", "many", id});
  EXPECT_EQ(bad.status, 1);
  Outcome missing = corral({"update", "--pids-limit", "3", "nosuch"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.err, HasSubstr("container nosuch does not exist"));
}

TEST_F(UpdateEventsTest, EventsStatsPrintsOneStatsEvent) {
  const std::string id = make_id("events");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;
  Outcome events = corral({"events", "--stats", id});
  ASSERT_EQ(events.status, 0) << events.err;
  nlohmann::json event = nlohmann::json::parse(events.out, nullptr, false);
  ASSERT_TRUE(event.is_object()) << events.out;
  EXPECT_EQ(event["type"], "stats");
  EXPECT_EQ(event["id"], id);
  EXPECT_GE(event["data"]["pids"]["current"].get<int>(), 1) << events.out;
  EXPECT_GT(event["data"]["memory"]["usage"]["usage"].get<long>(), 0) << events.out;
  EXPECT_TRUE(event["data"]["cpu"]["usage"].contains("total")) << events.out;

  // Without --stats the events keep coming, one per interval, until the container stops.
  testing::CorralProcess stream(with_root({"events", "--interval", "20ms", id}));
  auto lines = [&] {
    std::string out = stream.out_so_far();
    return std::count(out.begin(), out.end(), '\n');
  };
  ASSERT_TRUE(eventually([&] { return lines() >= 2; })) << stream.err_so_far();
  ASSERT_EQ(corral({"kill", id, "KILL"}).status, 0);
  Outcome ended = stream.finish();
  EXPECT_EQ(ended.status, 0) << ended.err;
  std::istringstream in(ended.out);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json streamed = nlohmann::json::parse(line, nullptr, false);
    EXPECT_EQ(streamed.value("type", ""), "stats") << line;
  }

  ASSERT_TRUE(eventually([&] { return state(id).value("status", "") == "stopped"; }));
  Outcome update = corral({"update", "--pids-limit", "3", id});
  EXPECT_EQ(update.status, 1);
  EXPECT_THAT(update.err, HasSubstr("update container " + id + ": it is not running"));
  for (const char* flag : {"--stats", "--interval=20ms"}) {
    Outcome stopped = corral({"events", flag, id});
    EXPECT_EQ(stopped.status, 1) << flag;
    EXPECT_THAT(stopped.err, HasSubstr("events for container " + id + ": it is stopped"));
  }
}

}  // namespace
}  // namespace corral::cli
