// The built corral binary driving real containers end to end: run, create/start, state, kill,
// delete, list, ps, pause/resume, on a busybox bundle whose config.json is runc's default spec
// with another command. Every invocation uses --root in a fresh directory.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/corral_process.hpp"
#include "cli/temp_dir.hpp"
#include "init/busybox_rootfs.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::Outcome;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    ASSERT_FALSE(rootfs_.rootfs().empty());
  }

  void TearDown() override {
    // Whatever a failed test left running is killed and its cgroup removed.
    for (const std::string& id : ids_) corral({"delete", "--force", id});
  }

  // A container id unique to this process, so that concurrent test runs never share a cgroup.
  std::string make_id(const std::string& name) {
    ids_.push_back("cli-lifecycle-" + name + "-" + std::to_string(::getpid()));
    return ids_.back();
  }

  // Writes BUNDLE/config.json (the bundle is the rootfs' work dir) running `args`.
  std::string bundle(const std::vector<std::string>& args) {
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = args;
    spec["process"]["terminal"] = false;
    // `corral spec`'s own config as it is: its deny-all device rule must still leave the
    // default nodes (/dev/null, ...) usable, as runc's implicit allow-list does.
    corral::testing::write_file(rootfs_.work_dir() + "/config.json", spec.dump(2));
    return rootfs_.work_dir();
  }

  // Runs corral with --root and stdout/stderr captured in files (a detached container keeps
  // them open: pipes would never see end of file).
  Outcome corral(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--root", root_.path()};
    full.insert(full.end(), args.begin(), args.end());
    return testing::run_corral(full);
  }

  // `corral state ID` parsed; null when it fails.
  nlohmann::json state(const std::string& id) {
    Outcome o = corral({"state", id});
    if (o.status != 0) return nullptr;
    return nlohmann::json::parse(o.out, nullptr, false);
  }

  // Polls `state` until it reports `status` (a bounded wait, not a timing assertion).
  std::string wait_for_status(const std::string& id, const std::string& status) {
    std::string last;
    for (int i = 0; i < 200; ++i) {
      nlohmann::json s = state(id);
      last = s.is_object() ? s.value("status", "") : "(no state)";
      if (last == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last;
  }

  bool state_dir_exists(const std::string& id) {
    return std::filesystem::exists(root_.path() + "/" + id);
  }

  corral::testing::BusyboxRootfs rootfs_;
  testing::TempDir root_;
  std::vector<std::string> ids_;
};

TEST_F(LifecycleTest, RunReturnsTheContainersExitStatus) {
  Outcome zero = corral({"run", "--bundle", bundle({"true"}), make_id("zero")});
  EXPECT_EQ(zero.status, 0) << zero.err;

  Outcome three =
      corral({"run", "--bundle", bundle({"sh", "-c", "echo hi; exit 3"}), make_id("three")});
  EXPECT_EQ(three.status, 3) << three.err;
  EXPECT_EQ(three.out, "hi\n");

  Outcome missing = corral({"run", "--bundle", bundle({"/nonexistent"}), make_id("missing")});
  EXPECT_EQ(missing.status, 127) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("exec: \"/nonexistent\""));

  Outcome no_command = corral({"run", "--bundle", bundle({"nosuchcommand"}), make_id("nocmd")});
  EXPECT_EQ(no_command.status, 127) << no_command.err;
  EXPECT_THAT(no_command.err,
              HasSubstr("exec: \"nosuchcommand\": executable file not found in $PATH"));

  Outcome directory = corral({"run", "--bundle", bundle({"/etc"}), make_id("dir")});
  EXPECT_EQ(directory.status, 126) << directory.err;
  EXPECT_THAT(directory.err, HasSubstr("exec: \"/etc\""));

  // Without --keep, a foreground run deletes the container after it exits.
  for (const std::string& id : ids_) EXPECT_FALSE(state_dir_exists(id)) << id;
}

// The default config denies all devices in the devices cgroup, yet the default nodes work, and
// the rule itself holds for any other device (here a /dev/fuse node made by hand, which needs no
// capability to open: mknod itself is allowed).
TEST_F(LifecycleTest, DefaultDevicesWorkUnderTheDenyAllRule) {
  Outcome ok = corral({"run", "--bundle",
                       bundle({"sh", "-c",
                               "echo x > /dev/null && head -c 4 /dev/zero | wc -c && "
                               "head -c 4 /dev/urandom | wc -c"}),
                       make_id("devices")});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "4\n4\n");
  Outcome denied = corral(
      {"run", "--bundle",
       bundle({"sh", "-c", "mknod /dev/fuse2 c 10 229 && exec 3< /dev/fuse2 && echo opened"}),
       make_id("denied")});
  EXPECT_NE(denied.status, 0);
  EXPECT_THAT(denied.err, HasSubstr("not permitted"));
}

TEST_F(LifecycleTest, CreateThenStartInSeparateInvocations) {
  const std::string id = make_id("twostep");
  const std::string pid_file = root_.file("init.pid");
  Outcome created =
      corral({"create", "--bundle", bundle({"sleep", "1000"}), "--pid-file", pid_file, id});
  ASSERT_EQ(created.status, 0) << created.err;

  // corral create has exited; the init still waits for start.
  nlohmann::json s = state(id);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["bundle"], rootfs_.work_dir());
  const int pid = s["pid"].get<int>();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(corral::testing::read_file(pid_file), std::to_string(pid));

  Outcome started = corral({"start", id});
  ASSERT_EQ(started.status, 0) << started.err;
  EXPECT_EQ(wait_for_status(id, "running"), "running");

  Outcome ps = corral({"ps", "--format", "json", id});
  ASSERT_EQ(ps.status, 0) << ps.err;
  nlohmann::json pids = nlohmann::json::parse(ps.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << ps.out;
  EXPECT_THAT(pids.get<std::vector<int>>(), ::testing::Contains(pid));

  Outcome again = corral({"start", id});
  EXPECT_EQ(again.status, 1);

  Outcome running_delete = corral({"delete", id});
  EXPECT_EQ(running_delete.status, 1);
  EXPECT_THAT(running_delete.err, HasSubstr("not stopped"));
  EXPECT_TRUE(state_dir_exists(id));

  Outcome killed = corral({"kill", id, "KILL"});
  ASSERT_EQ(killed.status, 0) << killed.err;
  EXPECT_EQ(wait_for_status(id, "stopped"), "stopped");
  EXPECT_EQ(state(id)["pid"], 0);

  Outcome deleted = corral({"delete", id});
  EXPECT_EQ(deleted.status, 0) << deleted.err;
  EXPECT_FALSE(state_dir_exists(id));
}

TEST_F(LifecycleTest, KillBySignalNumberAndPauseResume) {
  const std::string id = make_id("number");
  Outcome ran = corral({"run", "--detach", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;
  EXPECT_EQ(wait_for_status(id, "running"), "running");

  Outcome paused = corral({"pause", id});
  ASSERT_EQ(paused.status, 0) << paused.err;
  EXPECT_EQ(state(id)["status"], "paused");
  Outcome resumed = corral({"resume", id});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(state(id)["status"], "running");

  Outcome killed = corral({"kill", id, "9"});
  ASSERT_EQ(killed.status, 0) << killed.err;
  EXPECT_EQ(wait_for_status(id, "stopped"), "stopped");
  Outcome late = corral({"kill", id, "9"});
  EXPECT_EQ(late.status, 1);
}

TEST_F(LifecycleTest, DeleteForceKillsARunningContainer) {
  const std::string id = make_id("force");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;
  const int pid = state(id)["pid"].get<int>();
  ASSERT_GT(pid, 0);

  Outcome deleted = corral({"delete", "--force", id});
  EXPECT_EQ(deleted.status, 0) << deleted.err;
  EXPECT_FALSE(state_dir_exists(id));
  Outcome gone = corral({"state", id});
  EXPECT_EQ(gone.status, 1);
  // The init is dead (its new parent reaps it in its own time: poll, bounded).
  bool alive = true;
  for (int i = 0; i < 200 && alive; ++i) {
    alive = ::kill(pid, 0) == 0;
    if (alive) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(alive) << "init " << pid << " survived delete --force";
}

TEST_F(LifecycleTest, ListShowsTheContainers) {
  const std::string id = make_id("listed");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;
  // A directory without a readable state is skipped, not fatal.
  std::filesystem::create_directory(root_.file("half-made"));

  Outcome table = corral({"list"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("ID"));
  EXPECT_THAT(table.out, HasSubstr(id));
  EXPECT_THAT(table.out, HasSubstr("running"));
  EXPECT_THAT(table.out, Not(HasSubstr("half-made")));

  Outcome quiet = corral({"list", "-q"});
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.out, id + "\n");

  Outcome json = corral({"list", "--format", "json"});
  ASSERT_EQ(json.status, 0) << json.err;
  nlohmann::json list = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << json.out;
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["status"], "running");
}

TEST_F(LifecycleTest, AnUnknownIdIsAClearError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"state", "nosuch"},
                                             {"start", "nosuch"},
                                             {"kill", "nosuch"},
                                             {"delete", "nosuch"},
                                             {"ps", "nosuch"},
                                             {"pause", "nosuch"}}) {
    Outcome o = corral(args);
    EXPECT_EQ(o.status, 1) << args[0];
    EXPECT_THAT(o.err, HasSubstr("container nosuch does not exist")) << args[0];
  }
  // runc: --force on a missing container succeeds.
  EXPECT_EQ(corral({"delete", "--force", "nosuch"}).status, 0);
}

}  // namespace
}  // namespace corral::cli

// The busybox rootfs helper of tests/init, compiled here from its source rather than a copy.
#include "init/busybox_rootfs.cpp"  // NOLINT(bugprone-suspicious-include)
