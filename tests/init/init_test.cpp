// Real containers (run as root): corral-init started by the test launcher on a busybox rootfs.
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "busybox_rootfs.hpp"
#include "test_launcher.hpp"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using protocol::SyncType;
using ::testing::HasSubstr;

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
  LaunchResult run(const Config& config, const LaunchOptions& options = {}) {
    auto result = launch(config, rootfs_.work_dir(), options);
    EXPECT_EQ(result.launcher_error, "");
    return result;
  }
  LaunchResult run_sh(const std::string& script) {
    return run(rootfs_.config({"sh", "-c", script}));
  }

  BusyboxRootfs rootfs_;
};

std::string status_field(const std::string& status, const std::string& name) {
  auto at = status.find("\n" + name + ":");
  if (at == std::string::npos) return "<missing " + name + ">";
  auto start = status.find_first_not_of(" \t", at + name.size() + 2);
  return status.substr(start, status.find('\n', start) - start);
}

TEST_F(InitTest, ProcessExitingZeroAfterTheFullHandshake) {
  auto r = run(rootfs_.config({"true"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.messages.size(), 2u) << r.err;
  EXPECT_EQ(r.messages[0].type, SyncType::ProcHooks);
  EXPECT_EQ(r.messages[1].type, SyncType::ProcReady);
  EXPECT_FALSE(r.error);
}

TEST_F(InitTest, ExitStatusOfTheProcessIsPassedThrough) {
  auto r = run_sh("exit 3");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(r.exec_failed);
}

TEST_F(InitTest, NameNotInPathExits127) {
  auto r = run(rootfs_.config({"asdlfkjasldkfj"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.err, "exec: \"asdlfkjasldkfj\": executable file not found in $PATH\n");
  ASSERT_TRUE(r.exec_failed);
  EXPECT_EQ(r.exec_failed->errno_value, ENOENT);
  EXPECT_EQ(r.exec_failed->path, "asdlfkjasldkfj");
  EXPECT_FALSE(r.saw(SyncType::ProcError));
}

TEST_F(InitTest, MissingPathExits127) {
  auto r = run(rootfs_.config({"/asdlfkjasldkfj"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.err, "exec: \"/asdlfkjasldkfj\": file does not exist\n");
  ASSERT_TRUE(r.exec_failed);
  EXPECT_EQ(r.exec_failed->errno_value, ENOENT);
  EXPECT_EQ(r.exec_failed->path, "/asdlfkjasldkfj");
  EXPECT_FALSE(r.error);
}

TEST_F(InitTest, DirectoryExits126PermissionDenied) {
  auto r = run(rootfs_.config({"/etc"}));
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.err, "exec: \"/etc\": permission denied\n");
  ASSERT_TRUE(r.exec_failed);
  EXPECT_EQ(r.exec_failed->errno_value, EACCES);
  EXPECT_EQ(r.exec_failed->path, "/etc");
  EXPECT_FALSE(r.error);
}

TEST_F(InitTest, FileWithoutExecuteBitExits126) {
  write_file(rootfs_.rootfs() + "/etc/not-a-program", "#!/bin/sh\n");
  auto r = run(rootfs_.config({"/etc/not-a-program"}));
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.err, "exec: \"/etc/not-a-program\": permission denied\n");
}

TEST_F(InitTest, NonexistentCwdIsASetupErrorNamingTheCwd) {
  auto config = rootfs_.config({"true"});
  config.process->cwd = "/nonexistent";
  auto r = run(config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.saw(SyncType::ProcError));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message(), "chdir to cwd /nonexistent: no such file or directory");
  EXPECT_EQ(r.error->cause().errno_value, ENOENT);
  EXPECT_EQ(r.error->cause().path, "/nonexistent");
  EXPECT_FALSE(r.exec_failed);
}

TEST_F(InitTest, BindMountOfMissingSourceIsASetupErrorNamingTheMount) {
  auto config = rootfs_.config({"true"});
  Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = rootfs_.work_dir() + "/no-such-source";
  m.flags = MS_BIND;
  config.mounts.push_back(m);
  auto r = run(config);
  EXPECT_NE(r.exit_code, 0);
  ASSERT_TRUE(r.saw(SyncType::ProcError));
  EXPECT_FALSE(r.saw(SyncType::ProcReady));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message(), "mount " + m.source + " to /data: no such file or directory");
}

TEST_F(InitTest, HostnameIsTheConfigs) {
  auto r = run(rootfs_.config({"hostname"}));
  EXPECT_EQ(r.out, "corral-test\n") << r.err;
}

TEST_F(InitTest, ProcessIsPid1WithItsOwnProc) {
  auto r =
      run_sh("echo $$; cat /proc/1/comm; grep -c . /proc/self/mountinfo >/dev/null && echo ok");
  EXPECT_EQ(r.out, "1\nsh\nok\n") << r.err;
}

TEST_F(InitTest, EnvironmentIsExactlyTheConfigs) {
  auto r = run(rootfs_.config({"env"}));
  EXPECT_EQ(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nTERM=xterm\n") << r.err;
}

TEST_F(InitTest, DevHasDefaultNodesAndLinks) {
  auto r = run_sh(
      "stat -c '%n %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty;"
      "readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; test -d /dev/shm && test -d "
      "/dev/mqueue && echo ok");
  EXPECT_EQ(r.out,
            "/dev/null 1:3 666\n/dev/zero 1:5 666\n/dev/full 1:7 666\n/dev/random 1:8 666\n"
            "/dev/urandom 1:9 666\n/dev/tty 5:0 666\npts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n"
            "ok\n")
      << r.err;
}

TEST_F(InitTest, ReadonlyRootRefusesWrites) {
  auto config = rootfs_.config({"sh", "-c", "touch /written && echo wrote; echo done"});
  config.root.readonly = true;
  auto r = run(config);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "done\n");
  EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
  EXPECT_FALSE(fs::exists(rootfs_.rootfs() + "/written"));
}

TEST_F(InitTest, WritableRootAcceptsWrites) {
  auto r = run_sh("touch /written && echo wrote");
  EXPECT_EQ(r.out, "wrote\n") << r.err;
  EXPECT_TRUE(fs::exists(rootfs_.rootfs() + "/written"));
}

TEST_F(InitTest, MaskedPathsShowNothing) {
  write_file(rootfs_.rootfs() + "/etc/secret", "s3cret\n");
  fs::create_directories(rootfs_.rootfs() + "/etc/secret-dir");
  write_file(rootfs_.rootfs() + "/etc/secret-dir/key", "k3y\n");
  auto config = rootfs_.config({"sh", "-c", "cat /etc/secret; ls /etc/secret-dir; echo end"});
  config.linux_spec.masked_paths = {"/etc/secret", "/etc/secret-dir", "/proc/kcore",
                                    "/does/not/exist"};
  auto r = run(config);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "end\n") << r.err;
}

TEST_F(InitTest, ReadonlyPathsRefuseWrites) {
  fs::create_directories(rootfs_.rootfs() + "/data");
  auto config = rootfs_.config({"sh", "-c", "touch /data/x || echo refused; touch /y && echo ok"});
  config.linux_spec.readonly_paths = {"/data", "/does/not/exist"};
  auto r = run(config);
  EXPECT_EQ(r.out, "refused\nok\n") << r.err;
}

TEST_F(InitTest, OnlyStandardFdsReachTheProcess) {
  // The launcher leaks fd 11 and the init pipe is fd 10: neither may survive exec.
  LaunchOptions options;
  options.leak_fd_and_signals = true;
  // The shell stays alive (": after") so ls lists the shell's fds, not its own directory fd.
  auto r = run(rootfs_.config({"sh", "-c", "ls /proc/$$/fd; :"}), options);
  EXPECT_EQ(r.out, "0\n1\n2\n") << r.err;
}

TEST_F(InitTest, SignalMaskAndDispositionsAreReset) {
  LaunchOptions options;
  options.leak_fd_and_signals = true;  // SIGUSR1 blocked, SIGUSR2 ignored in the launcher
  auto r = run(rootfs_.config({"cat", "/proc/self/status"}), options);
  EXPECT_EQ(status_field(r.out, "SigBlk"), "0000000000000000") << r.err;
  EXPECT_EQ(status_field(r.out, "SigIgn"), "0000000000000000");
}

Capabilities test_capabilities() {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.permitted = {"CAP_CHOWN", "CAP_KILL"};
  caps.effective = {"CAP_CHOWN", "CAP_KILL"};
  caps.inheritable = {"CAP_KILL"};
  caps.ambient = {"CAP_KILL"};
  return caps;
}

TEST_F(InitTest, CapabilitiesOfRootAreTheBoundingSet) {
  // execve as uid 0 raises permitted and effective to the bounding set: the bounding set is
  // what confines root (as with runc).
  auto config = rootfs_.config({"cat", "/proc/self/status"});
  config.process->capabilities = test_capabilities();
  auto r = run(config);
  EXPECT_EQ(status_field(r.out, "CapBnd"), "0000000000000421") << r.err;  // bits 0, 5, 10
  EXPECT_EQ(status_field(r.out, "CapEff"), "0000000000000421");
  EXPECT_EQ(status_field(r.out, "CapInh"), "0000000000000020");
  EXPECT_EQ(status_field(r.out, "CapAmb"), "0000000000000020");
}

TEST_F(InitTest, CapabilitiesOfANonRootUserAreTheAmbientSet) {
  // For a non-root user only ambient capabilities survive execve of an ordinary file, so this
  // shows that permitted/inheritable/ambient were set after the user switch.
  auto config = rootfs_.config({"cat", "/proc/self/status"});
  config.process->capabilities = test_capabilities();
  config.process->user.uid = 1000;
  config.process->user.gid = 1000;
  auto r = run(config);
  EXPECT_EQ(status_field(r.out, "CapBnd"), "0000000000000421") << r.err;
  EXPECT_EQ(status_field(r.out, "CapEff"), "0000000000000020");
  EXPECT_EQ(status_field(r.out, "CapPrm"), "0000000000000020");
  EXPECT_EQ(status_field(r.out, "CapInh"), "0000000000000020");
  EXPECT_EQ(status_field(r.out, "CapAmb"), "0000000000000020");
}

TEST_F(InitTest, NoCapabilitiesAtAllForAnEmptyConfiguration) {
  auto config = rootfs_.config({"cat", "/proc/self/status"});
  config.process->capabilities = Capabilities{};
  auto r = run(config);
  EXPECT_EQ(status_field(r.out, "CapBnd"), "0000000000000000") << r.err;
  EXPECT_EQ(status_field(r.out, "CapEff"), "0000000000000000");
}

TEST_F(InitTest, UserAndGroupsAreTheConfigured) {
  auto config = rootfs_.config({"id"});
  config.process->user.uid = 1000;
  config.process->user.gid = 1001;
  config.process->user.additional_gids = {10, 20};
  auto r = run(config);
  EXPECT_EQ(r.out, "uid=1000 gid=1001 groups=10,20\n") << r.err;
}

TEST_F(InitTest, SymlinkedMountTargetStaysInsideTheRootfs) {
  // The image points /mnt-escape at a host path; the mount must land at that path *inside*
  // the rootfs, never on the host directory.
  std::string host_dir = rootfs_.work_dir() + "/host-dir";
  std::string source = rootfs_.work_dir() + "/bind-source";
  fs::create_directories(host_dir);
  fs::create_directories(source);
  write_file(source + "/marker", "from-source\n");
  fs::create_symlink(host_dir, rootfs_.rootfs() + "/mnt-escape");
  auto config = rootfs_.config(
      {"sh", "-c", "cat /mnt-escape/marker; cat " + host_dir + "/marker; echo w > /mnt-escape/w"});
  Mount m;
  m.destination = "/mnt-escape";
  m.type = "bind";
  m.source = source;
  m.flags = MS_BIND;
  config.mounts.push_back(m);
  auto r = run(config);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from-source\nfrom-source\n") << r.err;
  EXPECT_TRUE(fs::is_empty(host_dir));
  EXPECT_TRUE(fs::is_directory(rootfs_.rootfs() + host_dir));  // created inside the rootfs
  EXPECT_EQ(read_file(source + "/w"), "w\n");
}

TEST_F(InitTest, ExecFifoHoldsTheProcessUntilStart) {
  std::string fifo = rootfs_.work_dir() + "/exec.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string marker = rootfs_.rootfs() + "/started";
  bool started_before_start = true;
  LaunchOptions options;
  options.exec_fifo = fifo;
  options.before_start = [&] { started_before_start = fs::exists(marker); };
  auto r = run(rootfs_.config({"touch", "/started"}), options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(started_before_start);  // the init cannot exec before the fifo is opened
  EXPECT_EQ(r.exec_fifo_bytes, "0");
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(InitTest, NoPivotMovesTheRootAndChroots) {
  LaunchOptions options;
  options.no_pivot = true;
  auto r = run(rootfs_.config({"sh", "-c", "ls /; echo pid $$"}), options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("bin\n"));
  EXPECT_THAT(r.out, HasSubstr("pid 1\n"));
}

TEST_F(InitTest, BadInterpreterExits126) {
  write_file(rootfs_.rootfs() + "/bin/script", "#!/no/such/interpreter\n");
  fs::permissions(rootfs_.rootfs() + "/bin/script", fs::perms::owner_all);
  auto r = run(rootfs_.config({"script"}));
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.err, "exec: \"script\": bad interpreter: no such file or directory\n");
  ASSERT_TRUE(r.exec_failed);
  EXPECT_EQ(r.exec_failed->errno_value, ENOENT);
}

TEST_F(InitTest, ReadonlyBindMountRefusesWrites) {
  std::string source = rootfs_.work_dir() + "/shared";
  fs::create_directories(source);
  auto config = rootfs_.config({"sh", "-c", "touch /shared/x || echo refused"});
  Mount m;
  m.destination = "/shared";
  m.type = "bind";
  m.source = source;
  m.flags = MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID;
  m.propagation_flags = MS_PRIVATE | MS_REC;
  config.mounts.push_back(m);
  auto r = run(config);
  EXPECT_EQ(r.out, "refused\n") << r.err;
  EXPECT_TRUE(fs::is_empty(source));
}

TEST_F(InitTest, CgroupMountShowsTheContainersOwnCgroupReadOnly) {
  // The memory hierarchy directory this test (and so the init) is in, on the host.
  std::string own_memory_cgroup;
  for (const auto& line : {read_file("/proc/self/cgroup")}) {
    auto at = line.find(":memory:");
    if (at == std::string::npos) GTEST_SKIP() << "no cgroup v1 memory hierarchy";
    own_memory_cgroup = line.substr(at + 8, line.find('\n', at) - at - 8);
  }
  struct stat host {};
  ASSERT_EQ(::stat(("/sys/fs/cgroup/memory" + own_memory_cgroup).c_str(), &host), 0);
  auto config = rootfs_.config({"sh", "-c",
                                "stat -c %i /sys/fs/cgroup/memory; "
                                "mkdir /sys/fs/cgroup/memory/sub 2>/dev/null || echo refused"});
  Mount m;
  m.destination = "/sys/fs/cgroup";
  m.type = "cgroup";
  m.source = "cgroup";
  m.flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY;
  config.mounts.push_back(m);
  auto r = run(config);
  EXPECT_EQ(r.out, std::to_string(host.st_ino) + "\nrefused\n") << r.err;
}

class SeccompTest : public InitTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SeccompTest, DeniedMkdirFailsWithEperm) {
  auto config = rootfs_.config({"sh", "-c", "mkdir /tmp/x || echo denied; ls /tmp; echo end"});
  config.process->no_new_privileges = GetParam();
  Seccomp seccomp;
  seccomp.default_action = SeccompAction::Allow;
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  SeccompSyscall deny;
  deny.names = {"mkdir", "mkdirat", "no_such_syscall_anywhere"};
  deny.action = SeccompAction::Errno;
  deny.errno_ret = EPERM;
  seccomp.syscalls = {deny};
  config.linux_spec.seccomp = seccomp;
  auto r = run(config);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "denied\nend\n") << r.err;
  EXPECT_THAT(r.err, HasSubstr("Operation not permitted"));
  EXPECT_FALSE(fs::exists(rootfs_.rootfs() + "/tmp/x"));
}

INSTANTIATE_TEST_SUITE_P(NoNewPrivileges, SeccompTest, ::testing::Bool());

TEST_F(InitTest, SysctlAndRlimitAndUmaskAreApplied) {
  auto config = rootfs_.config({"sh", "-c", "cat /proc/sys/kernel/msgmax; ulimit -n; umask"});
  config.linux_spec.sysctl = {{"kernel.msgmax", "4242"}};
  Rlimit nofile;
  nofile.resource = RLIMIT_NOFILE;
  nofile.name = "RLIMIT_NOFILE";
  nofile.soft = 321;
  nofile.hard = 654;
  config.process->rlimits = {nofile};
  config.process->user.umask = 027;
  auto r = run(config);
  EXPECT_EQ(r.out, "4242\n321\n0027\n") << r.err;
}

TEST_F(InitTest, SetnsInitReportsTheErrorAlone) {
  auto config = rootfs_.config({"true"});
  config.process->cwd = "/nonexistent-cwd-for-setns";
  LaunchOptions options;
  options.init_type = protocol::InitType::Setns;
  auto r = run(config, options);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.messages.empty());
  ASSERT_TRUE(r.error);
  EXPECT_THAT(r.error->message(), HasSubstr("chdir to cwd /nonexistent-cwd-for-setns"));
}

}  // namespace
}  // namespace corral::testing
