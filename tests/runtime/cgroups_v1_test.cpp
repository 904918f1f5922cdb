// The v1 manager on this host's real cgroup v1 hierarchies (needs root). Every test uses its own
// group /corral-test-<pid>-<n> and removes it, and the processes it started, even on failure.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/cgroups/cgroupfs.hpp"
#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/manager.hpp"

extern char** environ;

namespace corral::cgroups {
namespace {

namespace stdfs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(const std::string& path) {
  return std::string(fs::trim(slurp(path)));
}

// Polls `condition` for up to 20 s: long enough never to fail on a slow machine, and the tests
// only wait on it for things that must happen eventually.
template <class F>
bool eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

class CgroupV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";
    auto layout = detect_layout();
    ASSERT_TRUE(layout) << layout.error().what();
    if (layout->version != Version::V1) GTEST_SKIP() << "the host does not mount cgroup v1";
    layout_ = *layout;
    static int counter = 0;
    top_ = "/corral-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    manager_ = open(top_);
  }

  void TearDown() override {
    if (manager_) (void)manager_->thaw();  // a frozen v1 task does not die until thawed
    for (const pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ManagerOptions patient;
    patient.remove_attempts = 10;
    std::vector<std::string> leftovers;
    for (const auto& [controller, root] : layout_.v1_roots) leftovers.push_back(root + top_);
    auto removed = open_manager_from_paths(to_map(leftovers), patient);
    ASSERT_TRUE(removed) << removed.error().what();
    auto destroyed = (*removed)->destroy();
    EXPECT_TRUE(destroyed) << "cleanup of " << top_ << ": " << destroyed.error().what();
  }

  static std::map<std::string, std::string> to_map(const std::vector<std::string>& dirs) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < dirs.size(); ++i) out[std::to_string(i)] = dirs[i];
    return out;
  }

  std::unique_ptr<Manager> open(const std::string& cgroups_path, ManagerOptions options = {}) {
    CgroupSpec spec;
    spec.container_id = "test";
    spec.cgroups_path = cgroups_path;
    spec.options = options;
    auto manager = open_manager(spec);
    EXPECT_TRUE(manager) << manager.error().what();
    return manager ? std::move(*manager) : nullptr;
  }

  // The default path, <parent>/<id>, as for a config without linux.cgroupsPath.
  std::unique_ptr<Manager> open_default(const std::string& parent, const std::string& id) {
    CgroupSpec spec;
    spec.container_id = id;
    spec.parent = parent;
    auto manager = open_manager(spec);
    EXPECT_TRUE(manager) << manager.error().what();
    return manager ? std::move(*manager) : nullptr;
  }

  pid_t spawn(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    EXPECT_EQ(rc, 0) << "spawn " << args[0];
    if (rc == 0) children_.push_back(pid);
    return pid;
  }

  void reap(pid_t pid, int* status = nullptr) {
    ASSERT_EQ(::waitpid(pid, status, 0), pid);
    std::erase(children_, pid);
  }

  std::string dir(const std::string& controller) { return manager_->paths().at(controller); }

  CgroupLayout layout_;
  std::string top_;
  std::unique_ptr<Manager> manager_;
  std::vector<pid_t> children_;
};

TEST_F(CgroupV1, PathsCoverEveryMountedHierarchy) {
  ASSERT_TRUE(manager_);
  EXPECT_EQ(manager_->version(), Version::V1);
  const auto paths = manager_->paths();
  EXPECT_EQ(paths.size(), layout_.v1_roots.size());
  for (const auto& [controller, root] : layout_.v1_roots) {
    EXPECT_EQ(paths.at(controller), root + top_);
  }
  EXPECT_EQ(paths.at("memory"), "/sys/fs/cgroup/memory" + top_);
  EXPECT_EQ(paths.at("name=systemd"), "/sys/fs/cgroup/systemd" + top_);
  EXPECT_EQ(paths.count(""), 0u) << "the hybrid unified mount must be ignored";
}

TEST_F(CgroupV1, CreateMakesEveryDirectoryAndFillsANestedCpuset) {
  manager_ = open(top_ + "/nested/group");
  ASSERT_TRUE(manager_);
  auto created = manager_->create();
  ASSERT_TRUE(created) << created.error().what();
  for (const auto& [controller, path] : manager_->paths()) {
    EXPECT_TRUE(stdfs::is_directory(path)) << path;
  }
  const std::string root = layout_.v1_roots.at("cpuset");
  EXPECT_FALSE(trimmed(dir("cpuset") + "/cpuset.cpus").empty());
  EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.cpus"), trimmed(root + "/cpuset.cpus"));
  EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.mems"), trimmed(root + "/cpuset.mems"));
  EXPECT_EQ(trimmed(root + top_ + "/nested/cpuset.cpus"), trimmed(root + "/cpuset.cpus"));
  EXPECT_TRUE(manager_->create()) << "creating again is fine";
}

TEST_F(CgroupV1, CorralsOwnCpusetParentGivesNewChildrenItsCpus) {
  const std::string root = layout_.v1_roots.at("cpuset");
  manager_ = open_default(top_ + "/nested", "group");
  ASSERT_TRUE(manager_);
  ASSERT_TRUE(manager_->create());
  EXPECT_EQ(dir("cpuset"), root + top_ + "/nested/group");
  const std::string parent = root + top_ + "/nested";
  EXPECT_EQ(trimmed(parent + "/cgroup.clone_children"), "1");
  EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.cpus"), trimmed(root + "/cpuset.cpus"));
  // A sibling made by anyone now starts with the parent's cpus and mems, as fill_cpuset would
  // have written them.
  ASSERT_EQ(::mkdir((parent + "/sibling").c_str(), 0755), 0);
  EXPECT_EQ(trimmed(parent + "/sibling/cpuset.cpus"), trimmed(parent + "/cpuset.cpus"));
  EXPECT_EQ(trimmed(parent + "/sibling/cpuset.mems"), trimmed(parent + "/cpuset.mems"));
  EXPECT_EQ(::rmdir((parent + "/sibling").c_str()), 0);
}

TEST_F(CgroupV1, ANamedParentAndTheRootKeepTheirCloneChildrenFlag) {
  const std::string root = layout_.v1_roots.at("cpuset");
  const std::string root_flag = trimmed(root + "/cgroup.clone_children");
  // The config names the path: its parent may hold someone else's groups.
  manager_ = open(top_ + "/named/group");
  ASSERT_TRUE(manager_ && manager_->create());
  EXPECT_EQ(trimmed(root + top_ + "/named/cgroup.clone_children"), "0");
  EXPECT_FALSE(trimmed(dir("cpuset") + "/cpuset.cpus").empty());
  // The default path right under the root: the root's flag would change every group the host
  // makes.
  manager_ = open_default("/", top_.substr(1));
  ASSERT_TRUE(manager_ && manager_->create());
  EXPECT_EQ(dir("cpuset"), root + top_);
  EXPECT_EQ(trimmed(root + "/cgroup.clone_children"), root_flag);
  EXPECT_FALSE(trimmed(dir("cpuset") + "/cpuset.cpus").empty());
}

TEST_F(CgroupV1, ApplyMemoryLimitsInEitherDirection) {
  ASSERT_TRUE(manager_ && manager_->create());
  const bool has_memsw = stdfs::exists(dir("memory") + "/memory.memsw.limit_in_bytes");
  Resources resources;
  resources.memory.emplace();
  resources.memory->limit = 64 << 20;
  resources.memory->reservation = 32 << 20;
  resources.memory->swap = 128 << 20;
  resources.memory->swappiness = 10;
  auto applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(trimmed(dir("memory") + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(trimmed(dir("memory") + "/memory.soft_limit_in_bytes"), std::to_string(32 << 20));
  EXPECT_EQ(trimmed(dir("memory") + "/memory.swappiness"), "10");
  if (has_memsw) {
    EXPECT_EQ(trimmed(dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(128 << 20));
  }
  // Down, then up past the current memory+swap: the writes must be ordered for the kernel to
  // accept them (memsw is never below the limit).
  resources.memory->limit = 32 << 20;
  resources.memory->swap = 48 << 20;
  applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  resources.memory->limit = 256 << 20;
  resources.memory->swap = 512 << 20;
  applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(trimmed(dir("memory") + "/memory.limit_in_bytes"), std::to_string(256 << 20));
  if (has_memsw) {
    EXPECT_EQ(trimmed(dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(512 << 20));
  }
}

TEST_F(CgroupV1, ApplyCpuAndPids) {
  ASSERT_TRUE(manager_ && manager_->create());
  Resources resources;
  resources.cpu.emplace();
  resources.cpu->shares = 512;
  resources.cpu->period = 50000;
  resources.cpu->quota = 25000;
  resources.cpu->cpus = "0";
  resources.cpu->mems = "0";
  resources.pids = PidsResources{.limit = 42};
  auto applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.shares"), "512");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.cfs_period_us"), "50000");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.cfs_quota_us"), "25000");
  EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.cpus"), "0");
  EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.mems"), "0");
  EXPECT_EQ(trimmed(dir("pids") + "/pids.max"), "42");

  resources = {};
  resources.pids = PidsResources{.limit = 0};
  resources.cpu.emplace();
  resources.cpu->quota = -1;
  ASSERT_TRUE(manager_->apply(resources));
  EXPECT_EQ(trimmed(dir("pids") + "/pids.max"), "max");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.shares"), "512") << "unset values are left alone";
}

TEST_F(CgroupV1, ApplyFailureNamesTheFileAndErrno) {
  ASSERT_TRUE(manager_ && manager_->create());
  Resources resources;
  resources.cpu.emplace();
  resources.cpu->cpus = "99999";  // no such cpu
  auto applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::SystemError);
  EXPECT_NE(applied.error().cause().errno_value, 0);
  EXPECT_EQ(applied.error().cause().path, dir("cpuset") + "/cpuset.cpus");
  EXPECT_NE(applied.error().message().find("99999"), std::string::npos) << applied.error().what();
}

TEST_F(CgroupV1, DevicesAreDeniedByDefaultThenAllowedInOrder) {
  ASSERT_TRUE(manager_ && manager_->create());
  EXPECT_EQ(trimmed(dir("devices") + "/devices.list"), "a *:* rwm");
  Resources resources;
  resources.devices = {
      {.allow = false, .type = 'a', .major = {}, .minor = {}, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 5, .minor = {}, .access = "rw"},
      {.allow = true, .type = 'b', .major = 8, .minor = 0, .access = "r"},
      {.allow = false, .type = 'b', .major = 8, .minor = 0, .access = "r"},
  };
  auto applied = manager_->apply(resources);
  ASSERT_TRUE(applied) << applied.error().what();
  EXPECT_EQ(slurp(dir("devices") + "/devices.list"), "c 1:3 rwm\nc 5:* rw\n");

  // Only allow rules: the default deny-all still comes first.
  resources.devices = {{.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r"}};
  ASSERT_TRUE(manager_->apply(resources));
  EXPECT_EQ(slurp(dir("devices") + "/devices.list"), "c 1:5 r\n");

  // An invalid rule is refused before anything is written.
  resources.devices = {{.allow = true, .type = 'a', .major = {}, .minor = {}, .access = "rwm"},
                       {.allow = true, .type = 'x', .major = 1, .minor = 5, .access = "r"}};
  applied = manager_->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_EQ(slurp(dir("devices") + "/devices.list"), "c 1:5 r\n");
}

TEST_F(CgroupV1, MissingControllerIsUnsupported) {
  ASSERT_TRUE(manager_ && manager_->create());
  auto pids_only = open_manager_from_paths({{"pids", dir("pids")}});
  ASSERT_TRUE(pids_only);
  Resources resources;
  resources.memory.emplace();
  resources.memory->limit = 1 << 30;
  auto applied = (*pids_only)->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(applied.error().message().find("memory"), std::string::npos);
  EXPECT_FALSE((*pids_only)->freeze());
  EXPECT_EQ(*(*pids_only)->freezer_state(), FreezerState::Thawed);
}

TEST_F(CgroupV1, ProcessIsPlacedInEveryHierarchyAndStatsAreReadable) {
  ASSERT_TRUE(manager_ && manager_->create());
  const pid_t pid = spawn({"/bin/sleep", "1000"});
  ASSERT_GT(pid, 0);
  auto added = manager_->add_process(pid);
  ASSERT_TRUE(added) << added.error().what();

  auto pids = manager_->procs();
  ASSERT_TRUE(pids) << pids.error().what();
  EXPECT_EQ(*pids, std::vector<pid_t>{pid});
  const std::string membership = slurp("/proc/" + std::to_string(pid) + "/cgroup");
  for (const auto& [controller, root] : layout_.v1_roots) {
    EXPECT_NE(membership.find(":" + controller + ":" + top_ + "\n"), std::string::npos)
        << controller << " in\n"
        << membership;
  }

  auto stats = manager_->stats();
  ASSERT_TRUE(stats) << stats.error().what();
  EXPECT_EQ(stats->pids_current, 1u);
  ASSERT_TRUE(stats->memory_usage_bytes.has_value());
  ASSERT_TRUE(stats->memory_max_usage_bytes.has_value());
  EXPECT_GE(*stats->memory_max_usage_bytes, *stats->memory_usage_bytes);
  EXPECT_TRUE(stats->cpu_usage_ns.has_value());
  EXPECT_EQ(stats->oom_kill_count, 0u);
  EXPECT_EQ(manager_->oom_events_path(), dir("memory") + "/memory.oom_control");

  // A manager re-opened from the recorded paths sees the same group.
  auto reopened = open_manager_from_paths(manager_->paths());
  ASSERT_TRUE(reopened) << reopened.error().what();
  EXPECT_EQ(*(*reopened)->procs(), std::vector<pid_t>{pid});
}

TEST_F(CgroupV1, FreezeStopsTheProcessAndThawResumesIt) {
  ASSERT_TRUE(manager_ && manager_->create());
  const std::string counter = "/tmp/corral-freeze-counter-" + std::to_string(::getpid());
  const pid_t pid = spawn({"/bin/sh", "-c",
                           "i=0; while :; do i=$((i+1)); echo $i > " + counter + ".tmp; mv " +
                               counter + ".tmp " + counter + "; sleep 0.01; done"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(manager_->add_process(pid));
  ASSERT_TRUE(eventually([&] { return !trimmed(counter).empty(); })) << "the counter never ran";

  auto frozen = manager_->freeze();
  ASSERT_TRUE(frozen) << frozen.error().what();
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Frozen);
  EXPECT_EQ(trimmed(dir("freezer") + "/freezer.state"), "FROZEN");
  const std::string status = slurp("/proc/" + std::to_string(pid) + "/status");
  const auto state_at = status.find("State:");
  ASSERT_NE(state_at, std::string::npos);
  const std::string state_line = status.substr(state_at, status.find('\n', state_at) - state_at);
  RecordProperty("frozen_state", state_line);
  // A frozen task sleeps uninterruptibly in the freezer ("D"; "T" on some kernels), never R/S.
  EXPECT_TRUE(state_line.find("D (") != std::string::npos ||
              state_line.find("T (") != std::string::npos)
      << state_line;

  // Frozen, the counter cannot move however long we look.
  const std::string before = trimmed(counter);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(trimmed(counter), before);

  auto thawed = manager_->thaw();
  ASSERT_TRUE(thawed) << thawed.error().what();
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Thawed);
  EXPECT_TRUE(eventually([&] { return trimmed(counter) != before; })) << "no progress after thaw";

  std::remove(counter.c_str());
  std::remove((counter + ".tmp").c_str());
}

TEST_F(CgroupV1, KillAllSignalsEveryProcess) {
  ASSERT_TRUE(manager_ && manager_->create());
  const pid_t first = spawn({"/bin/sleep", "1000"});
  const pid_t second = spawn({"/bin/sleep", "1000"});
  ASSERT_TRUE(manager_->add_process(first));
  ASSERT_TRUE(manager_->add_process(second));
  auto killed = manager_->kill_all(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().what();
  for (const pid_t pid : {first, second}) {
    int status = 0;
    reap(pid, &status);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << pid;
  }
  EXPECT_EQ(*manager_->freezer_state(), FreezerState::Thawed) << "kill_all thaws what it froze";
  EXPECT_TRUE(eventually([&] { return manager_->procs()->empty(); }));
  EXPECT_TRUE(manager_->kill_all(SIGTERM)) << "an empty group is fine";
}

TEST_F(CgroupV1, DestroyRemovesEveryDirectory) {
  manager_ = open(top_ + "/group");
  ASSERT_TRUE(manager_ && manager_->create());
  const pid_t pid = spawn({"/bin/sleep", "1000"});
  ASSERT_TRUE(manager_->add_process(pid));
  ::kill(pid, SIGKILL);
  reap(pid);
  // Right after the last process died the kernel may still hold the group: destroy retries.
  auto destroyed = manager_->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().what();
  for (const auto& [controller, path] : manager_->paths()) {
    EXPECT_FALSE(stdfs::exists(path)) << path;
    EXPECT_TRUE(stdfs::exists(fs::parent_dir(path))) << "the parent is not the group's to remove";
  }
  EXPECT_TRUE(manager_->destroy()) << "a group already gone counts as destroyed";
}

TEST_F(CgroupV1, DestroyRemovesGroupsMadeBelowIt) {
  ASSERT_TRUE(manager_ && manager_->create());
  ASSERT_TRUE(fs::make_dirs(dir("memory") + "/sub/deeper"));
  ASSERT_TRUE(fs::make_dirs(dir("pids") + "/sub"));
  auto destroyed = manager_->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().what();
  EXPECT_FALSE(stdfs::exists(dir("memory")));
  EXPECT_FALSE(stdfs::exists(dir("pids")));
}

TEST_F(CgroupV1, DestroyWithAProcessInsideFailsWithEbusy) {
  ManagerOptions impatient;
  impatient.remove_attempts = 3;
  impatient.remove_first_delay = std::chrono::milliseconds(1);
  manager_ = open(top_, impatient);
  ASSERT_TRUE(manager_ && manager_->create());
  const pid_t pid = spawn({"/bin/sleep", "1000"});
  ASSERT_TRUE(manager_->add_process(pid));

  auto destroyed = manager_->destroy();
  ASSERT_FALSE(destroyed);
  EXPECT_EQ(destroyed.error().cause().errno_value, EBUSY);
  EXPECT_NE(destroyed.error().message().find("3 attempts"), std::string::npos)
      << destroyed.error().what();
  EXPECT_NE(destroyed.error().message().find(top_), std::string::npos);
  EXPECT_TRUE(stdfs::exists(dir("memory")));

  ASSERT_TRUE(manager_->kill_all(SIGKILL));
  reap(pid);
  ManagerOptions patient;
  auto retried = open_manager_from_paths(manager_->paths(), patient);
  ASSERT_TRUE(retried);
  auto removed = (*retried)->destroy();
  ASSERT_TRUE(removed) << removed.error().what();
  for (const auto& [controller, path] : manager_->paths()) EXPECT_FALSE(stdfs::exists(path));
}

}  // namespace
}  // namespace corral::cgroups
