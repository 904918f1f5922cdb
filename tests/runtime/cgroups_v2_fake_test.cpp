// The v2 manager against a fake unified hierarchy in a temp dir (this host has no v2 controllers):
// the test makes the files the kernel would make, then checks what the manager wrote and parsed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/manager.hpp"

namespace corral::cgroups {
namespace {

namespace stdfs = std::filesystem;

class FakeV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    root_ = stdfs::temp_directory_path() /
            ("corral-fake-v2-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    group_ = root_ / "corral" / "c1";
    stdfs::create_directories(group_);
    for (const auto& dir : {root_, root_ / "corral"}) {
      put(dir / "cgroup.controllers", "cpuset cpu memory pids\n");
      put(dir / "cgroup.subtree_control", "");
    }
    for (const char* name :
         {"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max", "cpuset.cpus",
          "cpuset.mems", "pids.max", "cgroup.procs", "cgroup.freeze"}) {
      put(group_ / name, "");
    }
    put(group_ / "cgroup.events", "populated 1\nfrozen 0\n");
    put(root_ / "corral" / "cgroup.subtree_control", "memory\n");  // one already enabled

    CgroupLayout layout;
    layout.version = Version::V2;
    layout.unified_root = root_.string();
    CgroupSpec spec;
    spec.container_id = "c1";
    spec.options.freeze_timeout = std::chrono::milliseconds(50);
    auto manager = open_manager(spec, layout);
    ASSERT_TRUE(manager) << manager.error().what();
    manager_ = std::move(*manager);
  }
  void TearDown() override { stdfs::remove_all(root_); }

  static void put(const stdfs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  static std::string get(const stdfs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  stdfs::path root_;
  stdfs::path group_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(FakeV2, PathsAreTheUnifiedGroupDirectory) {
  EXPECT_EQ(manager_->version(), Version::V2);
  const std::map<std::string, std::string> expected = {{"", group_.string()}};
  EXPECT_EQ(manager_->paths(), expected);
  EXPECT_EQ(manager_->oom_events_path(), (group_ / "memory.events").string());
}

TEST_F(FakeV2, CreateEnablesAvailableControllersOnEveryAncestorButNotTheGroup) {
  auto created = manager_->create();
  ASSERT_TRUE(created) << created.error().what();
  EXPECT_EQ(get(root_ / "cgroup.subtree_control"), "+cpuset +cpu +memory +pids");
  EXPECT_EQ(get(root_ / "corral" / "cgroup.subtree_control"), "+cpuset +cpu +pids");
  EXPECT_FALSE(stdfs::exists(group_ / "cgroup.subtree_control"));
}

TEST_F(FakeV2, CreateFailsNamingAMissingControllersFile) {
  stdfs::remove(root_ / "corral" / "cgroup.controllers");
  auto created = manager_->create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().cause().errno_value, ENOENT);
  EXPECT_NE(created.error().message().find("corral/cgroup.controllers"), std::string::npos);
}

TEST_F(FakeV2, ApplyWritesV2Values) {
  Resources resources;
  resources.memory.emplace();
  resources.memory->limit = 64 << 20;
  resources.memory->reservation = 32 << 20;
  resources.memory->swap = 96 << 20;
  resources.memory->swappiness = 10;  // no v2 file: ignored
  resources.cpu.emplace();
  resources.cpu->shares = 1024;
  resources.cpu->quota = 50000;
  resources.cpu->period = 100000;
  resources.cpu->cpus = "0-1";
  resources.cpu->mems = "0";
  resources.pids = PidsResources{.limit = 42};
  auto applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(get(group_ / "memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(get(group_ / "memory.low"), std::to_string(32 << 20));
  EXPECT_EQ(get(group_ / "memory.swap.max"), std::to_string(32 << 20));
  EXPECT_EQ(get(group_ / "cpu.weight"), "39");
  EXPECT_EQ(get(group_ / "cpu.max"), "50000 100000");
  EXPECT_EQ(get(group_ / "cpuset.cpus"), "0-1");
  EXPECT_EQ(get(group_ / "cpuset.mems"), "0");
  EXPECT_EQ(get(group_ / "pids.max"), "42");

  resources = {};
  resources.memory.emplace();
  resources.memory->limit = -1;
  resources.memory->swap = -1;
  resources.cpu.emplace();
  resources.cpu->quota = -1;
  resources.pids = PidsResources{.limit = 0};
  applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(get(group_ / "memory.max"), "max");
  EXPECT_EQ(get(group_ / "memory.swap.max"), "max");
  EXPECT_EQ(get(group_ / "cpu.max"), "max");
  EXPECT_EQ(get(group_ / "pids.max"), "max");
}

TEST_F(FakeV2, ApplyLeavesUnsetLimitsAlone) {
  put(group_ / "memory.max", "untouched");
  put(group_ / "cpu.max", "untouched");
  Resources resources;
  resources.pids = PidsResources{.limit = 7};
  ASSERT_TRUE(manager_->apply(resources));
  EXPECT_EQ(get(group_ / "memory.max"), "untouched");
  EXPECT_EQ(get(group_ / "cpu.max"), "untouched");
  EXPECT_EQ(get(group_ / "pids.max"), "7");
}

TEST_F(FakeV2, ApplyFailsNamingTheMissingFile) {
  stdfs::remove(group_ / "pids.max");
  Resources resources;
  resources.pids = PidsResources{.limit = 7};
  auto applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().cause().errno_value, ENOENT);
  EXPECT_EQ(applied.error().cause().path, (group_ / "pids.max").string());
  EXPECT_NE(applied.error().message().find("pids"), std::string::npos);
}

TEST_F(FakeV2, DeviceRulesAreRefusedUnlessTheyAllowEverything) {
  Resources resources;
  resources.devices = {{.allow = false, .type = 'a', .major = {}, .minor = {}, .access = "rwm"},
                       {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"}};
  resources.pids = PidsResources{.limit = 7};
  auto applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(applied.error().message().find("eBPF"), std::string::npos);
  EXPECT_EQ(get(group_ / "pids.max"), "");  // refused before writing anything

  resources.devices = {{.allow = true, .type = 'a', .major = {}, .minor = {}, .access = "rwm"}};
  EXPECT_TRUE(manager_->apply(resources));
}

TEST_F(FakeV2, SwapWithoutLimitAndDisabledOomKillerAreRefused) {
  Resources resources;
  resources.memory.emplace();
  resources.memory->swap = 1 << 20;
  auto applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::ConfigInvalid);

  resources.memory.emplace();
  resources.memory->disable_oom_killer = true;
  applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::Unsupported);
}

TEST_F(FakeV2, AddProcessAndProcs) {
  ASSERT_TRUE(manager_->add_process(4242));
  EXPECT_EQ(get(group_ / "cgroup.procs"), "4242");
  put(group_ / "cgroup.procs", "30\n10\n20\n10\n");
  auto pids = manager_->procs();
  ASSERT_TRUE(pids) << pids.error().what();
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 20, 30}));
  put(group_ / "cgroup.procs", "10\nbogus\n");
  EXPECT_FALSE(manager_->procs());
}

TEST_F(FakeV2, StatsParseTheV2Files) {
  put(group_ / "memory.current", "12345\n");
  put(group_ / "memory.peak", "23456\n");
  put(group_ / "pids.current", "3\n");
  put(group_ / "cpu.stat", "usage_usec 789\nuser_usec 700\nsystem_usec 89\n");
  put(group_ / "memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  auto stats = manager_->stats();
  ASSERT_TRUE(stats) << stats.error().what();
  EXPECT_EQ(stats->memory_usage_bytes, 12345u);
  EXPECT_EQ(stats->memory_max_usage_bytes, 23456u);
  EXPECT_EQ(stats->pids_current, 3u);
  EXPECT_EQ(stats->cpu_usage_ns, 789000u);
  EXPECT_EQ(stats->oom_kill_count, 1u);

  stdfs::remove(group_ / "memory.peak");  // older kernels
  stats = manager_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->memory_max_usage_bytes, std::nullopt);

  put(group_ / "memory.current", "lots\n");
  stats = manager_->stats();
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message().find("memory.current"), std::string::npos);
}

TEST_F(FakeV2, FreezeWaitsForCgroupEvents) {
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Thawed);
  // The kernel never reports frozen here: freeze gives up after the timeout and thaws again.
  auto frozen = manager_->freeze();
  ASSERT_FALSE(frozen);
  EXPECT_NE(frozen.error().message().find("cgroup.events"), std::string::npos);
  EXPECT_EQ(get(group_ / "cgroup.freeze"), "0");

  put(group_ / "cgroup.events", "populated 1\nfrozen 1\n");  // as the kernel would say
  ASSERT_TRUE(manager_->freeze());
  EXPECT_EQ(get(group_ / "cgroup.freeze"), "1");
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Frozen);

  put(group_ / "cgroup.events", "populated 1\nfrozen 0\n");
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Freezing);
  ASSERT_TRUE(manager_->thaw());
  EXPECT_EQ(get(group_ / "cgroup.freeze"), "0");
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Thawed);
}

TEST_F(FakeV2, ReopenFromPaths) {
  auto reopened = open_manager_from_paths(manager_->paths());
  ASSERT_TRUE(reopened) << reopened.error().what();
  EXPECT_EQ((*reopened)->version(), Version::V2);
  EXPECT_EQ((*reopened)->paths(), manager_->paths());
  put(group_ / "cgroup.procs", "77\n");
  EXPECT_EQ(*(*reopened)->procs(), (std::vector<pid_t>{77}));
}

TEST_F(FakeV2, DestroyOfAGroupAlreadyGoneSucceeds) {
  stdfs::remove_all(group_);
  EXPECT_TRUE(manager_->destroy());
}

TEST(CgroupReopen, RefusesUnsafeRecordedPaths) {
  EXPECT_FALSE(open_manager_from_paths({}));
  for (const std::string bad : {"relative/x", "/sys/fs/cgroup/memory/../../..", "/"}) {
    auto reopened = open_manager_from_paths({{"memory", bad}});
    ASSERT_FALSE(reopened) << bad;
    EXPECT_EQ(reopened.error().code(), ErrorCode::ConfigInvalid);
    EXPECT_NE(reopened.error().message().find(bad), std::string::npos);
  }
  EXPECT_FALSE(open_manager_from_paths({{"", "/sys/fs/cgroup/a"}, {"memory", "/x/a"}}));
}

}  // namespace
}  // namespace corral::cgroups
