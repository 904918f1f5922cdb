// Child processes: spawn, wait, signal, a clean signal state, and 10,000 at once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "reactor/child_process.hpp"
#include "reactor/ops.hpp"
#include "reactor/scope.hpp"
#include "reactor/signals.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::ReactorTest;

class ChildrenTest : public ReactorTest {};

Task<Result<ChildExit>> run_and_wait(SpawnOptions options) {
  auto child = ChildProcess::spawn(options);
  if (!child) co_return fail(child.error());
  co_return co_await child->wait();
}

TEST_P(ChildrenTest, ExitStatusIsSeen) {
  auto exit = reactor.block_on(run_and_wait({.argv = {"/bin/sh", "-c", "exit 3"}}));
  ASSERT_TRUE(exit) << exit.error().message();
  EXPECT_EQ(exit->code, CLD_EXITED);
  EXPECT_EQ(exit->status, 3);
  EXPECT_EQ(exit->shell_status(), 3);
}

TEST_P(ChildrenTest, ExecFailureIsReportedWithItsErrno) {
  auto missing = ChildProcess::spawn({.argv = {"/nonexistent/program"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
  auto directory = ChildProcess::spawn({.argv = {"/etc"}});
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error(), std::errc::permission_denied);
}

TEST_P(ChildrenTest, SignalThroughPidfdIsReportedAsKilled) {
  auto body = []() -> Task<ChildExit> {
    auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "60"}});
    EXPECT_TRUE(child);
    EXPECT_TRUE(child->send_signal(SIGKILL));
    auto exit = co_await child->wait();
    EXPECT_TRUE(exit);
    co_return *exit;
  };
  ChildExit exit = reactor.block_on(body());
  EXPECT_EQ(exit.code, CLD_KILLED);
  EXPECT_EQ(exit.status, SIGKILL);
  EXPECT_EQ(exit.shell_status(), 137);
}

// A blocked mask and ignored dispositions survive execve; every child must start clean.
TEST_P(ChildrenTest, ChildStartsWithEmptyMaskAndDefaultDispositions) {
  SignalSet blocked({SIGCHLD, SIGTERM, SIGINT, SIGUSR1});
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  sigaction(SIGPIPE, &ignore, &old_pipe);
  char out_path[] = "/tmp/corral-sigstate-XXXXXX";
  int out = ::mkstemp(out_path);
  ASSERT_GE(out, 0);
  auto exit = reactor.block_on(run_and_wait(
      {.argv = {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}, .stdout_fd = out}));
  sigaction(SIGPIPE, &old_pipe, nullptr);
  ASSERT_TRUE(exit);
  std::ifstream in(out_path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(line.substr(line.find('\t') + 1), "0000000000000000") << line;
  }
  EXPECT_EQ(lines, 2);
  ::close(out);
  ::unlink(out_path);
}

TEST_P(ChildrenTest, OnlyStdioReachesTheChild) {
  int leaked = ::open("/dev/null", O_RDONLY);  // deliberately not close-on-exec
  ASSERT_GE(leaked, 0);
  char out_path[] = "/tmp/corral-fds-XXXXXX";
  int out = ::mkstemp(out_path);
  auto exit =
      reactor.block_on(run_and_wait({.argv = {"/bin/ls", "/proc/self/fd"}, .stdout_fd = out}));
  ASSERT_TRUE(exit);
  std::ifstream in(out_path);
  std::string fd;
  std::vector<std::string> fds;
  while (in >> fd) fds.push_back(fd);
  // ls itself opens one descriptor for the directory it lists.
  EXPECT_LE(fds.size(), 4u);
  for (const auto& f : fds) EXPECT_NE(f, std::to_string(leaked));
  ::close(leaked);
  ::close(out);
  ::unlink(out_path);
}

TEST_P(ChildrenTest, SignalSetDeliversThroughTheRing) {
  SignalSet signals({SIGUSR1});
  auto body = [&]() -> Task<Result<int>> {
    ::kill(::getpid(), SIGUSR1);  // process-directed: no thread of ours may take it instead
    co_return co_await signals.next();
  };
  auto signo = reactor.block_on(body());
  ASSERT_TRUE(signo);
  EXPECT_EQ(*signo, SIGUSR1);
}

// 10,000 children alive at once, each waited on from this one thread, while the process stays
// under this machine's 20,000-descriptor hard limit.
TEST_P(ChildrenTest, TenThousandChildrenAtOnce) {
  // The full 10,000 on io_uring; the epoll fallback, which holds a pidfd and an epoll
  // registration per child, is checked at 2,000 to keep CI's time in bounds.
  const int kChildren = GetParam() == BackendKind::IoUring ? 10'000 : 2'000;
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  const bool pidfd_per_child =
      !reactor.features().native_waitid || reactor.backend_kind() == BackendKind::Epoll;
  if (pidfd_per_child) {
    ASSERT_GT(nofile.rlim_cur, kChildren + 100u) << "raise ulimit -n";
  }

  // Every child blocks reading a pipe until all are started, so all 10,000 are alive at once;
  // closing the write end releases them, and each exits with its index modulo 250.
  int gate[2];
  ASSERT_EQ(::pipe2(gate, O_CLOEXEC), 0);
  // busybox-static execs much faster than a dynamically linked shell.
  const std::string shell = ::access("/bin/busybox", X_OK) == 0 ? "/bin/busybox" : "/bin/sh";
  std::map<int, int> expected_status;  // pid -> status
  std::map<int, int> seen_status;
  std::size_t peak_fds = 0;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    for (int i = 0; i < kChildren; ++i) {
      std::string script = "read x; exit " + std::to_string(i % 250);
      auto child = ChildProcess::spawn(
          {.argv = {"/bin/sh", "-c", script}, .stdin_fd = gate[0], .keep_pidfd = pidfd_per_child});
      EXPECT_TRUE(child) << "child " << i << ": " << child.error().message();
      if (!child) break;
      expected_status[child->pid()] = i % 250;
      scope.spawn([](ChildProcess c, std::map<int, int>& seen) -> Task<void> {
        auto exit = co_await c.wait();
        EXPECT_TRUE(exit);
        if (exit) seen[exit->pid] = exit->shell_status();
      }(std::move(*child), seen_status));
    }
    peak_fds = static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {}));
    ::close(gate[1]);
    co_await scope.join();
  };
  reactor.block_on(body());
  ::close(gate[0]);
  EXPECT_EQ(seen_status.size(), static_cast<std::size_t>(kChildren));
  EXPECT_EQ(seen_status, expected_status);
  EXPECT_LT(peak_fds, 20'000u);
  if (!pidfd_per_child) {
    EXPECT_LT(peak_fds, 100u) << "WAITID should need no descriptor per child";
  }
}

CORRAL_ALL_BACKENDS(ChildrenTest);

}  // namespace
}  // namespace corral::reactor
