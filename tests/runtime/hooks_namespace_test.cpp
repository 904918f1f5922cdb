// OCI hooks that run in the container's namespaces: createContainer (before pivot_root) and
// startContainer (after it), each with the OCI state on stdin and its timeout.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "real_container_fixture.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

class HooksNamespaceTest : public testing::RealContainerTest {
 protected:
  static Hook shell_hook(const std::string& shell, const std::string& script) {
    Hook h;
    h.path = shell;
    h.args = {"sh", "-c", script};
    h.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    return h;
  }
  std::string ns_of(pid_t pid, const char* name) const {
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + name).string();
  }
};

TEST_F(HooksNamespaceTest, CreateContainerHookRunsInTheInitsNamespaces) {
  std::string out = rootfs_.work_dir() + "/create-hook";
  Config config = rootfs_.config({"true"});
  // The host's shell: before pivot_root the container's mount namespace still shows the host.
  config.hooks.create_container.push_back(
      shell_hook("/bin/sh", "readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/pid > " +
                                out + "; cat > " + out + ".state"));
  auto c = factory_->create_container("hooked", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->create_blocking());
  pid_t init = (*c)->init_pid();
  EXPECT_EQ(read_file(out),
            ns_of(init, "mnt") + "\n" + ns_of(init, "uts") + "\n" + ns_of(init, "pid") + "\n");
  // ... which are not the runtime's.
  EXPECT_NE(ns_of(init, "mnt"), ns_of(::getpid(), "mnt"));
  EXPECT_NE(ns_of(init, "pid"), ns_of(::getpid(), "pid"));
  std::string state = read_file(out + ".state");
  EXPECT_NE(state.find("\"id\":\"hooked\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"pid\":" + std::to_string(init)), std::string::npos) << state;
  EXPECT_TRUE((*c)->destroy_blocking());
}

TEST_F(HooksNamespaceTest, StartContainerHookRunsInsideTheContainer) {
  Config config = rootfs_.config({"sh", "-c", "cat /tmp/started; grep -c startme /tmp/state"});
  // The container's busybox shell, at a path that resolves in the container, after pivot_root
  // and sethostname.
  config.hooks.start_container.push_back(
      shell_hook("/bin/sh", "hostname > /tmp/started; cat > /tmp/state"));
  auto c = factory_->create_container("startme", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  std::string out_path = rootfs_.work_dir() + "/out";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto ran = (*c)->run_blocking({-1, out, out});
  ::close(out);
  ASSERT_TRUE(ran) << ran.error().what();
  auto exit = (*c)->wait_blocking();
  ASSERT_TRUE(exit);
  EXPECT_EQ(shell_status(*exit), 0);
  EXPECT_EQ(read_file(out_path), "corral-test\n1\n");
  // The hook wrote inside the container's rootfs, not at the host's /tmp.
  EXPECT_TRUE(fs::exists(rootfs_.rootfs() + "/tmp/started"));
  EXPECT_TRUE((*c)->destroy_blocking());
}

TEST_F(HooksNamespaceTest, FailingOrSlowCreateContainerHookFailsCreateAndLeavesNothing) {
  Config failing = rootfs_.config({"true"});
  failing.hooks.create_container.push_back(shell_hook("/bin/sh", "echo broken >&2; exit 4"));
  auto c = factory_->create_container("failing", std::move(failing));
  ASSERT_TRUE(c);
  auto created = (*c)->create_blocking();
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message().find("createContainer hook /bin/sh: exited with status 4: "
                                           "broken"),
            std::string::npos)
      << created.error().what();

  Config slow = rootfs_.config({"true"});
  Hook sleeper = shell_hook("/bin/sh", "sleep 30");
  sleeper.timeout_seconds = 1;
  slow.hooks.create_container.push_back(sleeper);
  auto s = factory_->create_container("slow", std::move(slow));
  ASSERT_TRUE(s);
  created = (*s)->create_blocking();
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message().find("timed out after 1s"), std::string::npos)
      << created.error().what();

  EXPECT_EQ(testing::count_dir_entries(root_), 0);
  EXPECT_EQ(leftover_cgroups(), 0);
}

// A hook that closes its stdin unread while the state is still being written (the state is
// larger than any socket or pipe buffer): the runtime must see EPIPE and go on, not die of
// SIGPIPE, and the hook's success is the hook's.
TEST_F(HooksNamespaceTest, HookThatClosesItsStdinUnreadDoesNotKillTheRuntime) {
  std::string marker = rootfs_.work_dir() + "/closed-stdin";
  Config config = rootfs_.config({"true"});
  config.annotations["padding"] = std::string(4 << 20, 'x');
  config.hooks.create_container.push_back(
      shell_hook("/bin/sh", "exec 0<&-; sleep 0.2; echo ran > " + marker));
  auto c = factory_->create_container("closes-stdin", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  auto created = (*c)->create_blocking();
  ASSERT_TRUE(created) << created.error().what();
  EXPECT_EQ(read_file(marker), "ran\n");
  EXPECT_TRUE((*c)->destroy_blocking());
}

TEST_F(HooksNamespaceTest, CreateContainerHookInAUserNamespaceRunsAsItsRoot) {
  ::chmod(rootfs_.work_dir().c_str(), 0711);
  std::string out = rootfs_.work_dir() + "/userns-hook";
  std::string dir = rootfs_.work_dir() + "/hook-out";
  fs::create_directory(dir);
  ::chown(dir.c_str(), 100000, 100000);
  ::lchown(rootfs_.rootfs().c_str(), 100000, 100000);
  for (const auto& entry : fs::recursive_directory_iterator(rootfs_.rootfs()))
    ::lchown(entry.path().c_str(), 100000, 100000);
  Config config = rootfs_.config({"true"});
  config.linux_spec.namespaces.push_back({NamespaceType::User, ""});
  config.linux_spec.uid_mappings = {{0, 100000, 65536}};
  config.linux_spec.gid_mappings = {{0, 100000, 65536}};
  config.hooks.create_container.push_back(shell_hook(
      "/bin/sh", "id -u > " + dir + "/id; readlink /proc/self/ns/user >> " + dir + "/id"));
  auto c = factory_->create_container("userns-hook", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->create_blocking());
  EXPECT_EQ(read_file(dir + "/id"), "0\n" + ns_of((*c)->init_pid(), "user") + "\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/id").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_TRUE((*c)->destroy_blocking());
}

}  // namespace
}  // namespace corral
