#include "apps/corral/update_resources.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "cli/temp_dir.hpp"

namespace corral::cli {
namespace {

using ::testing::HasSubstr;

TEST(UpdateResources, FlagsAloneFillOnlyWhatTheySet) {
  UpdateOptions options;
  options.memory = 1 << 20;
  options.pids_limit = 10;
  std::istringstream no_stdin;
  auto resources = update_resources(options, no_stdin);
  ASSERT_TRUE(resources) << resources.error().what();
  ASSERT_TRUE(resources->memory);
  EXPECT_EQ(resources->memory->limit, 1 << 20);
  EXPECT_FALSE(resources->memory->reservation);
  EXPECT_FALSE(resources->memory->swap);
  EXPECT_FALSE(resources->cpu);
  ASSERT_TRUE(resources->pids);
  EXPECT_EQ(resources->pids->limit, 10);
}

TEST(UpdateResources, EveryFlagLandsInItsField) {
  UpdateOptions o;
  o.memory = 1;
  o.memory_reservation = 2;
  o.memory_swap = -1;
  o.cpu_shares = 3;
  o.cpu_quota = 4;
  o.cpu_period = 5;
  o.cpuset_cpus = "0-1";
  o.cpuset_mems = "0";
  Resources r = apply_update_flags({}, o);
  ASSERT_TRUE(r.memory && r.cpu);
  EXPECT_EQ(r.memory->limit, 1);
  EXPECT_EQ(r.memory->reservation, 2);
  EXPECT_EQ(r.memory->swap, -1);
  EXPECT_EQ(r.cpu->shares, 3u);
  EXPECT_EQ(r.cpu->quota, 4);
  EXPECT_EQ(r.cpu->period, 5u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->mems, "0");
  EXPECT_FALSE(r.pids);
}

TEST(UpdateResources, FileIsTheBaseAndFlagsOverrideIt) {
  testing::TempDir dir;
  UpdateOptions options;
  options.resources_file = dir.write(
      "r.json",
      R"({"memory":{"limit":1000,"reservation":500},"cpu":{"shares":100},"pids":{"limit":7}})");
  options.memory = 2000;
  std::istringstream no_stdin;
  auto resources = update_resources(options, no_stdin);
  ASSERT_TRUE(resources) << resources.error().what();
  EXPECT_EQ(resources->memory->limit, 2000);
  EXPECT_EQ(resources->memory->reservation, 500);
  EXPECT_EQ(resources->cpu->shares, 100u);
  EXPECT_EQ(resources->pids->limit, 7);
}

TEST(UpdateResources, DashReadsStdin) {
  UpdateOptions options;
  options.resources_file = "-";
  std::istringstream in(R"({"cpu":{"quota":50000,"period":100000}})");
  auto resources = update_resources(options, in);
  ASSERT_TRUE(resources) << resources.error().what();
  EXPECT_EQ(resources->cpu->quota, 50000);
  EXPECT_EQ(resources->cpu->period, 100000u);
}

TEST(UpdateResources, ErrorsNameTheSourceAndTheField) {
  std::istringstream no_stdin;
  UpdateOptions missing;
  missing.resources_file = "/nonexistent/r.json";
  auto not_found = update_resources(missing, no_stdin);
  ASSERT_FALSE(not_found);
  EXPECT_THAT(not_found.error().what(), HasSubstr("update -r /nonexistent/r.json"));
  EXPECT_THAT(not_found.error().what(), HasSubstr("No such file"));

  auto malformed = parse_resources_json("{", "update -r x");
  ASSERT_FALSE(malformed);
  EXPECT_THAT(malformed.error().what(), HasSubstr("update -r x: malformed JSON"));

  auto wrong_type = parse_resources_json(R"({"memory":{"limit":"lots"}})", "update -r x");
  ASSERT_FALSE(wrong_type);
  EXPECT_THAT(wrong_type.error().what(), HasSubstr("linux.resources.memory.limit"));

  auto refused = parse_resources_json(R"({"blockIO":{"weight":10}})", "update -r x");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().what(), HasSubstr("blockIO"));

  EXPECT_FALSE(parse_resources_json("[]", "update -r x"));
}

}  // namespace
}  // namespace corral::cli
