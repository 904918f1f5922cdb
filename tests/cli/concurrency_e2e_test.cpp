// Many corral invocations on one --root at once (as engines run them), and what a corral killed
// in the middle of `create` leaves: nothing that `delete --force` cannot remove. End to end
// against the built binary, on a busybox bundle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/corral_runner.hpp"
#include "cli/temp_dir.hpp"
#include "init/busybox_rootfs.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::Outcome;
using testing::RunningCorral;

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Polls `done` (bounded): for things another process finishes in its own time.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return done();
}

bool process_gone(pid_t pid) {
  return eventually([&] {
    if (::kill(pid, 0) < 0) return true;
    // A zombie (its parent, a killed corral, gone; not yet reaped by init) is dead too.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
  });
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& id : ids_) corral({"delete", "--force", id});
  }

  std::string make_id(const std::string& name) {
    ids_.push_back("cli-concurrent-" + name + "-" + std::to_string(::getpid()));
    return ids_.back();
  }

  std::vector<std::string> with_root(const std::vector<std::string>& args) {
    std::vector<std::string> all{"--root", root_.path()};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
  Outcome corral(const std::vector<std::string>& args) {
    return testing::run_corral(with_root(args));
  }

  // BUNDLE/config.json running `args`, with `hooks` (OCI hooks JSON) and linux.cgroupsPath
  // when given.
  std::string bundle(const std::vector<std::string>& args, const nlohmann::json& hooks = nullptr,
                     const std::string& cgroups_path = {}) {
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = args;
    spec["process"]["terminal"] = false;
    if (!hooks.is_null()) spec["hooks"] = hooks;
    if (!cgroups_path.empty()) spec["linux"]["cgroupsPath"] = cgroups_path;
    corral::testing::write_file(rootfs_.work_dir() + "/config.json", spec.dump(2));
    return rootfs_.work_dir();
  }

  std::string state_dir(const std::string& id) { return root_.path() + "/" + id; }
  std::string lock_file(const std::string& id) { return root_.path() + "/#locks/" + id; }

  // The directories the container's cgroup has (or had) in every hierarchy: by default the
  // cgroup of a config without cgroupsPath.
  std::vector<std::string> cgroup_dirs(const std::string& id) {
    auto custom = cgroups_paths_.find(id);
    cgroups::CgroupSpec spec;
    spec.container_id = id;
    if (custom != cgroups_paths_.end()) spec.cgroups_path = custom->second;
    auto manager = cgroups::open_manager(spec);
    EXPECT_TRUE(manager) << manager.error().what();
    std::vector<std::string> dirs;
    if (manager)
      for (const auto& [controller, dir] : (*manager)->paths()) dirs.push_back(dir);
    return dirs;
  }

  // Nothing of the container remains: state dir, lock file, cgroup, mount.
  void expect_nothing_left(const std::string& id) {
    EXPECT_FALSE(exists(state_dir(id))) << id;
    EXPECT_FALSE(exists(lock_file(id))) << id;
    for (const std::string& dir : cgroup_dirs(id)) EXPECT_FALSE(exists(dir)) << dir;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);)
      EXPECT_THAT(line, ::testing::Not(HasSubstr(id)));
  }

  // The processes in the container's cgroup, in any hierarchy.
  std::vector<pid_t> cgroup_pids(const std::string& id) {
    std::vector<pid_t> pids;
    for (const std::string& dir : cgroup_dirs(id)) {
      std::ifstream procs(dir + "/cgroup.procs");
      for (pid_t pid; procs >> pid;) pids.push_back(pid);
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
  }

  corral::testing::BusyboxRootfs rootfs_;
  testing::TempDir root_;
  testing::TempDir scratch_;
  std::vector<std::string> ids_;
  std::map<std::string, std::string> cgroups_paths_;  // id -> its config's linux.cgroupsPath
};

TEST_F(ConcurrencyTest, OfConcurrentCreatesOfOneIdExactlyOneWins) {
  const std::string id = make_id("create");
  const std::string dir = bundle({"sleep", "1000"});
  std::vector<std::unique_ptr<RunningCorral>> creates;
  for (int i = 0; i < 4; ++i)
    creates.push_back(std::make_unique<RunningCorral>(with_root({"create", "--bundle", dir, id})));
  int winners = 0;
  for (auto& create : creates) {
    Outcome o = create->wait();
    if (o.status == 0) {
      ++winners;
    } else {
      EXPECT_EQ(o.status, 1);
      EXPECT_THAT(o.err, HasSubstr("container " + id + " already exists"));
    }
  }
  EXPECT_EQ(winners, 1);
  Outcome state = corral({"state", id});
  ASSERT_EQ(state.status, 0) << state.err;
  EXPECT_EQ(nlohmann::json::parse(state.out)["status"], "created");
  // The losers took nothing: one init in the container's cgroup.
  EXPECT_EQ(cgroup_pids(id).size(), 1u);

  Outcome deleted = corral({"delete", id});
  EXPECT_EQ(deleted.status, 0) << deleted.err;
  expect_nothing_left(id);
}

// start and delete at once: whichever gets the container first acts on it whole, the other
// sees the result. Either it runs (and delete refused it) or it is gone (and start found none).
TEST_F(ConcurrencyTest, DeleteWhileStartRunsStaysConsistent) {
  const std::string dir = bundle({"sleep", "1000"});
  for (int round = 0; round < 3; ++round) {
    const std::string id = make_id("start-delete-" + std::to_string(round));
    ASSERT_EQ(corral({"create", "--bundle", dir, id}).status, 0);
    RunningCorral start(with_root({"start", id}));
    RunningCorral del(with_root({"delete", id}));
    Outcome started = start.wait();
    Outcome deleted = del.wait();
    if (started.status == 0) {
      EXPECT_EQ(deleted.status, 1);
      EXPECT_THAT(deleted.err, HasSubstr("not stopped"));
      Outcome state = corral({"state", id});
      ASSERT_EQ(state.status, 0) << state.err;
      EXPECT_EQ(nlohmann::json::parse(state.out)["status"], "running");
      EXPECT_EQ(corral({"delete", "--force", id}).status, 0);
    } else {
      EXPECT_EQ(deleted.status, 0) << deleted.err;
      EXPECT_THAT(started.err, HasSubstr("does not exist"));
    }
    expect_nothing_left(id);
  }
}

// The same with --force: the delete always wins in the end, whatever start did.
TEST_F(ConcurrencyTest, ForcedDeleteWhileStartRunsLeavesNothing) {
  const std::string dir = bundle({"sleep", "1000"});
  for (int round = 0; round < 3; ++round) {
    const std::string id = make_id("start-force-" + std::to_string(round));
    ASSERT_EQ(corral({"create", "--bundle", dir, id}).status, 0);
    const std::vector<pid_t> pids = cgroup_pids(id);
    ASSERT_EQ(pids.size(), 1u);
    RunningCorral start(with_root({"start", id}));
    RunningCorral del(with_root({"delete", "--force", id}));
    Outcome started = start.wait();
    Outcome deleted = del.wait();
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    if (started.status != 0) {
      EXPECT_THAT(started.err, HasSubstr("does not exist"));
    }
    EXPECT_TRUE(process_gone(pids[0])) << "init " << pids[0];
    expect_nothing_left(id);
  }
}

// corral killed while a createRuntime hook runs: the init is in its cgroup, state.json says
// "creating". The hook is a program of the caller's and outlives corral; the test ends it.
// The cgroup is a custom one (as engines set), which only the recorded state can point to.
TEST_F(ConcurrencyTest, KillNineInTheMiddleOfCreateLeavesNothingDeleteForceCannotClean) {
  const std::string id = make_id("killed");
  cgroups_paths_[id] = "/corral/custom-" + id;
  const std::string hook_pid = scratch_.file("hook.pid");
  nlohmann::json hooks = {{"createRuntime",
                           {{{"path", "/bin/sh"},
                             {"args",
                              {"sh", "-c",
                               "echo $$ > " + hook_pid + ".tmp && mv " + hook_pid + ".tmp " +
                                   hook_pid + " && exec sleep 1000"}}}}}};
  RunningCorral create(
      with_root({"create", "--bundle", bundle({"sleep", "1000"}, hooks, cgroups_paths_[id]), id}));
  ASSERT_TRUE(eventually([&] { return exists(hook_pid); })) << "the hook never ran";
  const std::vector<pid_t> pids = cgroup_pids(id);
  EXPECT_EQ(pids.size(), 1u) << "the init should be in its cgroup while the hook runs";
  ::kill(create.pid(), SIGKILL);
  EXPECT_EQ(create.wait().status, 128 + SIGKILL);
  pid_t hook = 0;
  std::ifstream(hook_pid) >> hook;
  if (hook > 0) ::kill(hook, SIGKILL);

  EXPECT_TRUE(exists(state_dir(id)));
  // Whatever state it is in, the container is not usable as a created one.
  EXPECT_NE(corral({"start", id}).status, 0);

  Outcome deleted = corral({"delete", "--force", id});
  EXPECT_EQ(deleted.status, 0) << deleted.err;
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << "init " << pid;
  expect_nothing_left(id);
}

// A directory without state.json (a create killed before it wrote one) and one whose
// state.json is damaged: plain commands say so and name the remedy; delete --force kills the
// processes of the container's cgroup and removes the cgroup and the directory.
TEST_F(ConcurrencyTest, AnUnreadableStateIsAClearErrorAndDeleteForceCleansIt) {
  for (const std::string& content : {std::string(), std::string("{\"id\": tru")}) {
    const std::string id = make_id(content.empty() ? "no-state" : "corrupt-state");
    ASSERT_TRUE(std::filesystem::create_directory(state_dir(id)));
    if (!content.empty()) corral::testing::write_file(state_dir(id) + "/state.json", content);
    // A process in the container's cgroup, as an init left by a killed create would be.
    cgroups::CgroupSpec spec;
    spec.container_id = id;
    auto manager = cgroups::open_manager(spec);
    ASSERT_TRUE(manager) << manager.error().what();
    ASSERT_TRUE((*manager)->create());
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::execl("/bin/sleep", "sleep", "1000", nullptr);
      ::_exit(127);
    }
    ASSERT_TRUE((*manager)->add_process(child));

    for (const char* command : {"state", "delete", "start", "kill"}) {
      Outcome o = corral({std::string(command), id});
      EXPECT_EQ(o.status, 1) << command;
      EXPECT_THAT(o.err, HasSubstr("container " + id)) << command;
      EXPECT_THAT(o.err, HasSubstr("corral delete --force " + id)) << command;
      EXPECT_THAT(o.err,
                  content.empty() ? HasSubstr("has no state.json") : HasSubstr("cannot be loaded"))
          << command;
    }
    EXPECT_TRUE(exists(state_dir(id)));

    Outcome deleted = corral({"delete", "--force", id});
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the process survived";
    expect_nothing_left(id);
  }
}

// A foreground run holds the lock only to create and start: while its container runs, other
// commands act on it (a kill here, which would wait forever on a lock held by the run).
TEST_F(ConcurrencyTest, AForegroundRunLetsOtherCommandsIn) {
  const std::string id = make_id("foreground");
  RunningCorral run(with_root({"run", "--bundle", bundle({"sleep", "1000"}), id}));
  ASSERT_TRUE(eventually([&] {
    Outcome state = corral({"state", id});
    return state.status == 0 && nlohmann::json::parse(state.out)["status"] == "running";
  }));
  Outcome paused = corral({"pause", id});
  EXPECT_EQ(paused.status, 0) << paused.err;
  Outcome resumed = corral({"resume", id});
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  Outcome killed = corral({"kill", id, "KILL"});
  EXPECT_EQ(killed.status, 0) << killed.err;
  Outcome ran = run.wait();
  EXPECT_EQ(ran.status, 128 + SIGKILL) << ran.err;
  expect_nothing_left(id);
}

// delete --force of a container a foreground run waits for: the run sees its container die
// and finds it deleted; nothing is left and the delete does not trip over the run's last write.
TEST_F(ConcurrencyTest, ForcedDeleteOfAForegroundRunsContainer) {
  const std::string dir = bundle({"sleep", "1000"});
  for (int round = 0; round < 3; ++round) {
    const std::string id = make_id("foreground-delete-" + std::to_string(round));
    RunningCorral run(with_root({"run", "--bundle", dir, id}));
    ASSERT_TRUE(eventually([&] {
      Outcome state = corral({"state", id});
      return state.status == 0 && nlohmann::json::parse(state.out)["status"] == "running";
    }));
    Outcome deleted = corral({"delete", "--force", id});
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    Outcome ran = run.wait();
    EXPECT_EQ(ran.status, 128 + SIGKILL) << ran.err;
    expect_nothing_left(id);
  }
}

// ps while other commands run: runc's table, one row per process of the container.
TEST_F(ConcurrencyTest, PsPrintsTheTableOfTheContainersProcesses) {
  const std::string id = make_id("ps");
  ASSERT_EQ(
      corral({"run", "-d", "--bundle", bundle({"sh", "-c", "sleep 1000 & exec sleep 1001"}), id})
          .status,
      0);
  std::vector<pid_t> pids;
  ASSERT_TRUE(eventually([&] { return (pids = cgroup_pids(id)).size() == 2; }));
  Outcome table = corral({"ps", id});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_THAT(table.out,
              ::testing::StartsWith("UID          PID    PPID  C STIME TTY          TIME CMD\n"));
  EXPECT_THAT(table.out, HasSubstr("sleep 1000\n"));
  EXPECT_THAT(table.out, HasSubstr("sleep 1001\n"));
  for (pid_t pid : pids) EXPECT_THAT(table.out, HasSubstr(" " + std::to_string(pid) + " "));
  Outcome json = corral({"ps", "--format", "json", id});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).get<std::vector<pid_t>>(), pids);
  EXPECT_EQ(corral({"ps", id, "aux"}).status, 1);  // other ps(1) options are refused
}

// The lock file lives as long as its container; commands on missing containers leave none.
TEST_F(ConcurrencyTest, LockFilesDoNotOutliveTheirContainers) {
  Outcome missing = corral({"kill", "nosuch", "KILL"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_FALSE(exists(lock_file("nosuch")));

  const std::string id = make_id("lockfile");
  ASSERT_EQ(corral({"create", "--bundle", bundle({"sleep", "1000"}), id}).status, 0);
  EXPECT_TRUE(exists(lock_file(id)));
  Outcome deleted = corral({"delete", "--force", id});
  EXPECT_EQ(deleted.status, 0) << deleted.err;
  EXPECT_FALSE(exists(lock_file(id)));
  // The lock directory is not taken for a container.
  Outcome list = corral({"list", "-q"});
  EXPECT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(list.out, "");
}

// Many containers made, started, killed and deleted at once on one root.
TEST_F(ConcurrencyTest, ManyContainersAtOnceOnOneRoot) {
  const std::string dir = bundle({"sleep", "1000"});
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(make_id("many-" + std::to_string(i)));
  auto all = [&](const std::vector<std::string>& command_before_id,
                 const std::vector<std::string>& after_id = {}) {
    std::vector<std::unique_ptr<RunningCorral>> running;
    for (const std::string& id : ids) {
      std::vector<std::string> args = command_before_id;
      args.push_back(id);
      args.insert(args.end(), after_id.begin(), after_id.end());
      running.push_back(std::make_unique<RunningCorral>(with_root(args)));
    }
    for (std::size_t i = 0; i < running.size(); ++i) {
      Outcome o = running[i]->wait();
      EXPECT_EQ(o.status, 0) << command_before_id[0] << " " << ids[i] << ": " << o.err;
    }
  };
  all({"create", "--bundle", dir});
  all({"start"});
  Outcome list = corral({"list", "--format", "json"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), ids.size());
  all({"kill"}, {"KILL"});
  all({"delete", "--force"});
  for (const std::string& id : ids) expect_nothing_left(id);
}

}  // namespace
}  // namespace corral::cli
