// Container::exec on real containers (as root, busybox rootfs): the exec'd process gets the
// process settings of its Process (capabilities, rlimits, no_new_privs, user, umask, cwd, env)
// and the container's seccomp filter; exec failures keep the seed's statuses and messages; and
// a container cannot overwrite the init through /proc/PID/exe (CVE-2019-5736).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "init/busybox_rootfs.hpp"
#include "reactor/reactor.hpp"
#include "runtime/factory.hpp"
#include "runtime/fd_passing.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_file;

std::string build_init_path() {
  return std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
}

// A content fingerprint with no crypto library: the bytes themselves, compared whole.
std::string binary_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ExecOutcome {
  int status = -1;  // shell status
  std::string out, err;
  std::optional<ExecFailure> failure;
  std::optional<Error> error;  // exec itself failed
};

class ContainerExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The factory runs a copy of the init: if the protection ever failed, the CVE test would
    // damage this copy, not the build's binary.
    init_copy_ = rootfs_.work_dir() + "/corral-init";
    fs::copy_file(build_init_path(), init_copy_);
    FactoryOptions options;
    options.init_path = init_copy_;
    options.cgroup_parent = "/corral-exec-test-" + std::to_string(::getpid());
    auto f = Factory::create(rootfs_.work_dir() + "/state", options);
    ASSERT_TRUE(f) << f.error().what();
    factory_.emplace(std::move(*f));
    for (const char* applet : {"cat", "grep", "tr", "sleep"}) {
      std::error_code ec;
      fs::create_symlink("busybox", rootfs_.rootfs() + "/bin/" + applet, ec);
    }
  }
  void TearDown() override {
    if (container_) (void)container_->destroy_blocking();
    std::error_code ec;
    std::string name = "corral-exec-test-" + std::to_string(::getpid());
    for (auto it = fs::directory_iterator("/sys/fs/cgroup", ec);
         !ec && it != fs::directory_iterator(); ++it)
      ::rmdir((it->path() / name).c_str());
  }

  // A running container whose init sleeps.
  void start(Config config) {
    auto c = factory_->create_container("exec-target", std::move(config));
    ASSERT_TRUE(c) << c.error().what();
    container_ = std::move(*c);
    auto ran = container_->run_blocking();
    ASSERT_TRUE(ran) << ran.error().what();
  }
  Config sleeper() const { return rootfs_.config({"sleep", "1000"}); }

  // A Process like the container's, running args.
  Process process(std::vector<std::string> args) const {
    Process p = *container_->config().process;
    p.args = std::move(args);
    return p;
  }

  ExecOutcome exec(Process p, int stdin_fd = -1) {
    std::string out_path = rootfs_.work_dir() + "/exec-out";
    std::string err_path = rootfs_.work_dir() + "/exec-err";
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ExecOutcome outcome;
    reactor_.block_on([&]() -> reactor::Task<void> {
      auto e = co_await container_->exec(std::move(p), {stdin_fd, out, err});
      if (!e) {
        outcome.error = std::move(e).error();
        co_return;
      }
      outcome.failure = (*e)->exec_failure();
      auto exit = co_await (*e)->wait();
      if (exit) outcome.status = shell_status(*exit);
    }());
    ::close(out);
    ::close(err);
    outcome.out = read_file(out_path);
    outcome.err = read_file(err_path);
    return outcome;
  }

  testing::BusyboxRootfs rootfs_;
  std::string init_copy_;
  std::optional<Factory> factory_;
  std::unique_ptr<Container> container_;
  reactor::Reactor reactor_;
};

TEST_F(ContainerExecTest, ProcessGetsItsCapabilitiesUserAndGroups) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  Process p = process({"sh", "-c",
                       "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' "
                       "/proc/self/status; umask; pwd; echo $GREETING"});
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.effective = caps.permitted = caps.inheritable = caps.ambient = {"CAP_KILL"};
  p.capabilities = caps;
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.additional_gids = {1002, 1003};
  p.user.umask = 027;
  p.cwd = "/tmp";
  p.env = {"PATH=/bin", "GREETING=hello"};
  auto r = exec(p);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.status, 0) << r.err;
  // CAP_KILL is bit 5 (0x20); CAP_CHOWN bit 0, CAP_NET_BIND_SERVICE bit 10: 0x421.
  EXPECT_EQ(r.out,
            "Uid:\t1000\t1000\t1000\t1000\n"
            "Gid:\t1001\t1001\t1001\t1001\n"
            "Groups:\t1002 1003 \n"
            "CapInh:\t0000000000000020\n"
            "CapPrm:\t0000000000000020\n"
            "CapEff:\t0000000000000020\n"
            "CapBnd:\t0000000000000421\n"
            "CapAmb:\t0000000000000020\n"
            "0027\n/tmp\nhello\n")
      << r.err;
}

TEST_F(ContainerExecTest, ProcessGetsRlimitsNoNewPrivsAndOnlyStdio) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  // The shell stays alive (": after") so ls lists the shell's fds, not its own directory fd.
  Process p = process(
      {"sh", "-c", "ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; ls /proc/$$/fd; :"});
  p.rlimits = {Rlimit{RLIMIT_NOFILE, "RLIMIT_NOFILE", 77, 99}};
  p.no_new_privileges = true;
  // A host fd without close-on-exec must not reach the exec'd process either.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  auto r = exec(p);
  ::close(leaked);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "77\n99\nNoNewPrivs:\t1\n0\n1\n2\n") << r.err;

  // And without: the init's own limits and no no_new_privs.
  p.rlimits.clear();
  p.no_new_privileges = false;
  auto plain = exec(p);
  EXPECT_THAT(plain.out, HasSubstr("NoNewPrivs:\t0\n")) << plain.err;
  EXPECT_THAT(plain.out, Not(HasSubstr("77\n99\n")));
}

// What `corral exec` does: another process loads the container from state.json and execs.
TEST_F(ContainerExecTest, LoadedContainerExecsWithTheProcessSettings) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  auto loaded = factory_->load("exec-target");
  ASSERT_TRUE(loaded) << loaded.error().what();
  Process p = process({"sh", "-c",
                       "grep CapBnd /proc/self/status; "
                       "[ \"$(cat /proc/self/cgroup)\" = \"$(cat /proc/1/cgroup)\" ] && "
                       "echo same-cgroup"});
  Capabilities caps;
  caps.bounding = {"CAP_KILL"};
  p.capabilities = caps;
  std::swap(container_, *loaded);  // exec through the loaded object
  auto r = exec(p);
  std::swap(container_, *loaded);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "CapBnd:\t0000000000000020\nsame-cgroup\n");
}

class ExecSeccompTest : public ContainerExecTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ExecSeccompTest, ContainersFilterDeniesMkdirInTheExecdProcess) {
  Config config = sleeper();
  Seccomp seccomp;
  seccomp.default_action = SeccompAction::Allow;
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  SeccompSyscall deny;
  deny.names = {"mkdir", "mkdirat"};
  deny.action = SeccompAction::Errno;
  deny.errno_ret = EPERM;
  seccomp.syscalls = {deny};
  config.linux_spec.seccomp = seccomp;
  ASSERT_NO_FATAL_FAILURE(start(config));
  Process p = process({"sh", "-c", "mkdir /tmp/x || echo denied; grep Seccomp: /proc/self/status"});
  p.no_new_privileges = GetParam();
  auto r = exec(p);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "denied\nSeccomp:\t2\n") << r.err;
  EXPECT_THAT(r.err, HasSubstr("Operation not permitted"));
  EXPECT_FALSE(fs::exists(rootfs_.rootfs() + "/tmp/x"));
}

INSTANTIATE_TEST_SUITE_P(NoNewPrivileges, ExecSeccompTest, ::testing::Bool());

TEST_F(ContainerExecTest, ExecFailuresExit127And126WithTheSeedsMessages) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  struct Case {
    std::string program;
    int status;
    std::string message;
    int errno_value;
  } cases[] = {
      {"asdlfkjasldkfj", 127, "exec: \"asdlfkjasldkfj\": executable file not found in $PATH\n",
       ENOENT},
      {"/asdlfkjasldkfj", 127, "exec: \"/asdlfkjasldkfj\": file does not exist\n", ENOENT},
      {"/etc", 126, "exec: \"/etc\": permission denied\n", EACCES},
  };
  for (const auto& c : cases) {
    auto r = exec(process({c.program}));
    ASSERT_FALSE(r.error) << r.error->what();
    EXPECT_EQ(r.status, c.status) << c.program;
    EXPECT_EQ(r.err, c.message);
    ASSERT_TRUE(r.failure) << c.program;
    EXPECT_EQ(r.failure->errno_value, c.errno_value) << c.program;
    EXPECT_EQ(r.failure->path, c.program);
  }
}

TEST_F(ContainerExecTest, SetupFailureIsTheInitsErrorAndLeavesNoProcess) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  Process p = process({"true"});
  p.cwd = "/no/such/dir";
  auto r = exec(p);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), ErrorCode::SystemError);
  EXPECT_THAT(r.error->message(),
              HasSubstr("exec in container exec-target: init: chdir to cwd /no/such/dir: no such "
                        "file or directory"));
  auto procs = container_->processes();
  ASSERT_TRUE(procs);
  EXPECT_EQ(*procs, std::vector<pid_t>{container_->init_pid()});

  p = process({"true"});
  p.terminal = true;
  r = exec(p);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), ErrorCode::ConfigInvalid);
  EXPECT_THAT(r.error->message(), HasSubstr("no console socket"));
}

// The fd an SCM_RIGHTS message on `socket` carries, or -1.
int receive_fd(int socket) {
  auto message = receive_with_fds(socket, 4096, "console socket");
  if (!message || message->fds.size() != 1) return -1;
  return message->fds[0].release();
}

// exec with process.terminal: the setns init makes the pty in the container and sends its
// master over the console socket; the process has it as its controlling terminal.
TEST_F(ContainerExecTest, TerminalIsMadeInTheContainerAndSentOverTheConsoleSocket) {
  ASSERT_NO_FATAL_FAILURE(start(sleeper()));
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
  Process p = process({"sh", "-c", "tty; read line; echo got $line; exit 4"});
  p.terminal = true;
  int status = -1;
  std::string output;
  reactor_.block_on([&]() -> reactor::Task<void> {
    ProcessIo io;
    io.console_socket_fd = sockets[1];
    auto e = co_await container_->exec(std::move(p), io);
    ::close(sockets[1]);
    if (!e) {
      ADD_FAILURE() << e.error().what();
      co_return;
    }
    int master = receive_fd(sockets[0]);
    if (master < 0) {
      ADD_FAILURE() << "no pty master received";
      co_return;
    }
    [[maybe_unused]] ssize_t w = ::write(master, "hello\n", 6);
    char buffer[512];
    for (;;) {  // until the slave side is gone (EIO)
      ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) break;
      output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(master);
    auto exit = co_await (*e)->wait();
    if (exit) status = shell_status(*exit);
  }());
  ::close(sockets[0]);
  EXPECT_EQ(status, 4);
  EXPECT_THAT(output, HasSubstr("/dev/pts/"));
  EXPECT_THAT(output, HasSubstr("got hello"));
}

// CVE-2019-5736. The image's /bin/sh is "#!/proc/self/exe": exec'ing it runs the init binary
// itself inside the container (a victim kept alive by giving it an init pipe that never
// speaks). A second exec'd process, root with CAP_SYS_PTRACE (so that non-dumpable alone does
// not stop it), finds the victim, tries to open /proc/PID/exe for writing, keeps a read-only fd
// on it, and after the victim is gone tries to reopen that fd for writing through
// /proc/self/fd. Every write must fail and the host's binaries must be unchanged.
TEST_F(ContainerExecTest, ContainerCannotOverwriteTheInitThroughProcExe) {
  std::string sh = rootfs_.rootfs() + "/bin/sh";
  fs::remove(sh);
  testing::write_file(sh, "#!/proc/self/exe\n");
  ::chmod(sh.c_str(), 0755);
  const std::string init_before = binary_contents(init_copy_);
  const std::string build_init_before = binary_contents(build_init_path());
  const std::string test_binary_before = binary_contents("/proc/self/exe");
  ASSERT_FALSE(init_before.empty());

  ASSERT_NO_FATAL_FAILURE(start(rootfs_.config({"/bin/busybox", "sleep", "1000"})));
  int victim_in[2], attacker_in[2], attacker_out[2];
  ASSERT_EQ(::pipe2(victim_in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(attacker_in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(attacker_out, O_CLOEXEC), 0);

  Process victim = process({"/bin/sh"});
  victim.env = {"PATH=/bin", "_LIBCONTAINER_INITPIPE=0", "_LIBCONTAINER_INITTYPE=setns"};
  Process attacker = process(
      {"/bin/busybox", "sh", "-c",
       "for p in /proc/[0-9]*; do case \"$(cat $p/cmdline 2>/dev/null)\" in "
       "/proc/self/exe*) v=${p#/proc/};; esac; done; "
       "[ -n \"$v\" ] && echo found; "
       "if echo pwned > /proc/$v/exe; then echo wrote-exe; else echo exe-write-refused; fi; "
       "exec 7< /proc/$v/exe && echo held; "
       "read go; "
       "if echo pwned > /proc/self/fd/7; then echo overwrote; else echo overwrite-refused; fi; "
       "if echo pwned >> /proc/self/fd/7; then echo appended; else echo append-refused; fi"});
  Capabilities all;
  all.bounding = all.effective = all.permitted = {"CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE",
                                                  "CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN"};
  attacker.capabilities = all;
  attacker.env = {"PATH=/bin"};
  std::string attacker_err = rootfs_.work_dir() + "/attacker-err";
  int err_fd = ::open(attacker_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  std::string transcript;
  int victim_status = -1, attacker_status = -1;
  reactor_.block_on([&]() -> reactor::Task<void> {
    auto v = co_await container_->exec(victim, {victim_in[0], -1, -1});
    if (!v) {
      ADD_FAILURE() << v.error().what();
      co_return;
    }
    EXPECT_FALSE((*v)->exec_failure());
    auto a = co_await container_->exec(attacker, {attacker_in[0], attacker_out[1], err_fd});
    if (!a) {
      ADD_FAILURE() << a.error().what();
      co_return;
    }
    ::close(attacker_out[1]);
    attacker_out[1] = -1;
    // Until "held": the victim runs, the attacker holds its exe open.
    char buffer[256];
    while (transcript.find("held\n") == std::string::npos) {
      ssize_t n = ::read(attacker_out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      transcript.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(victim_in[1]);  // the victim's "init pipe" ends: it exits
    victim_in[1] = -1;
    auto ve = co_await (*v)->wait();
    if (ve) victim_status = shell_status(*ve);
    [[maybe_unused]] ssize_t w = ::write(attacker_in[1], "go\n", 3);
    for (;;) {
      ssize_t n = ::read(attacker_out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      transcript.append(buffer, static_cast<std::size_t>(n));
    }
    auto ae = co_await (*a)->wait();
    if (ae) attacker_status = shell_status(*ae);
  }());
  for (int fd : {victim_in[0], victim_in[1], attacker_in[0], attacker_in[1], attacker_out[0],
                 attacker_out[1], err_fd})
    if (fd >= 0) ::close(fd);

  std::string errors = read_file(attacker_err);
  // The victim was the init binary run by the #! line: it failed to read a bootstrap (exit 1).
  EXPECT_EQ(victim_status, 1);
  EXPECT_EQ(attacker_status, 0) << errors;
  EXPECT_EQ(transcript, "found\nexe-write-refused\nheld\noverwrite-refused\nappend-refused\n")
      << errors;
  EXPECT_THAT(errors, HasSubstr("Read-only file system"));
  EXPECT_TRUE(binary_contents(init_copy_) == init_before) << "the init was overwritten";
  EXPECT_TRUE(binary_contents(build_init_path()) == build_init_before);
  EXPECT_TRUE(binary_contents("/proc/self/exe") == test_binary_before);
}

}  // namespace
}  // namespace corral
