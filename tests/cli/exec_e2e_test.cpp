// corral exec and signal forwarding, end to end against the built binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "cli/container_cli_fixture.hpp"

namespace corral::cli {
namespace {

using testing::ContainerCliTest;
using testing::CorralProcess;
using ::testing::HasSubstr;
using testing::Outcome;

class ExecTest : public ContainerCliTest {};

TEST_F(ExecTest, ExecReturnsTheProcessStatusAndAppliesTheFlags) {
  const std::string id = make_id("exec");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;

  Outcome five = corral({"exec", "-e", "GREETING=hello", id, "sh", "-c", "echo $GREETING; exit 5"});
  EXPECT_EQ(five.status, 5) << five.err;
  EXPECT_EQ(five.out, "hello\n");

  // The process runs in the container: its hostname and its view of the pid namespace.
  Outcome inside = corral({"exec", "--cwd", "/tmp", id, "sh", "-c", "pwd; hostname; echo $$"});
  EXPECT_EQ(inside.status, 0) << inside.err;
  EXPECT_THAT(inside.out, HasSubstr("/tmp\n"));
  EXPECT_THAT(inside.out, HasSubstr("corral\n"));  // the default spec's hostname

  Outcome user = corral({"exec", "-u", "1000:1001", "-g", "1002", id, "id"});
  EXPECT_EQ(user.status, 0) << user.err;
  EXPECT_THAT(user.out, HasSubstr("uid=1000"));
  EXPECT_THAT(user.out, HasSubstr("gid=1001"));
  EXPECT_THAT(user.out, HasSubstr("1002"));

  Outcome missing = corral({"exec", id, "/nonexistent"});
  EXPECT_EQ(missing.status, 127) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent"));
  Outcome directory = corral({"exec", id, "/etc"});
  EXPECT_EQ(directory.status, 126) << directory.err;

  const std::string pid_file = root_.file("exec.pid");
  Outcome detached =
      corral({"exec", "-d", "--pid-file", pid_file, id, "sh", "-c", "echo done > /dev/shm/marker"});
  EXPECT_EQ(detached.status, 0) << detached.err;
  EXPECT_GT(std::stoi(corral::testing::read_file(pid_file)), 0);
  EXPECT_TRUE(eventually([&] {
    return corral({"exec", id, "cat", "/dev/shm/marker"}).out == "done\n";
  }));

  // --process FILE replaces the process entirely.
  const std::string process_file = root_.file("process.json");
  corral::testing::write_file(
      process_file,
      R"({"args":["sh","-c","echo $X; exit 4"],"env":["X=from-file","PATH=/bin"],"cwd":"/"})");
  Outcome from_file = corral({"exec", "--process", process_file, id});
  EXPECT_EQ(from_file.status, 4) << from_file.err;
  EXPECT_EQ(from_file.out, "from-file\n");
}

TEST_F(ExecTest, ExecIntoAStoppedContainerIsAClearError) {
  const std::string id = make_id("exec-stopped");
  Outcome created = corral({"run", "-d", "--bundle", bundle({"true"}), id});
  ASSERT_EQ(created.status, 0) << created.err;
  ASSERT_TRUE(eventually([&] { return state(id).value("status", "") == "stopped"; }));
  Outcome exec = corral({"exec", id, "true"});
  EXPECT_EQ(exec.status, 1);
  EXPECT_THAT(exec.err, HasSubstr("exec in container " + id + ": it is stopped"));
}

TEST_F(ExecTest, ForegroundRunForwardsSigtermAndReturnsTheStatus) {
  const std::string id = make_id("sigterm");
  CorralProcess run(with_root(
      {"run", "--bundle",
       bundle({"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done"}), id}));
  // The trap is set once "ready" is printed; before that pid 1 would ignore SIGTERM.
  ASSERT_TRUE(eventually([&] { return run.out_so_far() == "ready\n"; })) << run.err_so_far();
  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  Outcome outcome = run.finish();
  EXPECT_EQ(outcome.status, 7) << outcome.err;
}

TEST_F(ExecTest, ForegroundExecForwardsSignals) {
  const std::string id = make_id("exec-signal");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;
  CorralProcess exec(with_root(
      {"exec", id, "sh", "-c", "trap 'exit 9' USR1; echo ready; while :; do sleep 0.1; done"}));
  ASSERT_TRUE(eventually([&] { return exec.out_so_far() == "ready\n"; })) << exec.err_so_far();
  ASSERT_EQ(::kill(exec.pid(), SIGUSR1), 0);
  Outcome outcome = exec.finish();
  EXPECT_EQ(outcome.status, 9) << outcome.err;
}

}  // namespace
}  // namespace corral::cli
