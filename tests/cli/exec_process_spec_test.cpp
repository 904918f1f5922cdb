// build_exec_process: runc's rules for the process of `corral exec`.
#include "apps/corral/exec_process_spec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace corral::cli {
namespace {

using ::testing::ElementsAre;

Process container_process() {
  Process p;
  p.terminal = true;
  p.args = {"sleep", "1000"};
  p.env = {"PATH=/bin", "HOME=/root"};
  p.cwd = "/srv";
  p.user.uid = 5;
  p.user.gid = 6;
  p.capabilities.emplace();
  p.capabilities->bounding = {"CAP_KILL"};
  p.capabilities->effective = {"CAP_KILL"};
  p.capabilities->permitted = {"CAP_KILL"};
  return p;
}

TEST(BuildExecProcess, TheContainersProcessIsTheBaseWithTheCommandLinesArgs) {
  ExecOptions options;
  options.id = "c1";
  options.args = {"ls", "-l"};
  auto p = build_exec_process(options, container_process(), std::nullopt);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_THAT(p->args, ElementsAre("ls", "-l"));
  EXPECT_THAT(p->env, ElementsAre("PATH=/bin", "HOME=/root"));
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_EQ(p->user.uid, 5u);
  EXPECT_FALSE(p->terminal);  // the init's terminal is not exec's: --tty asks for one
}

TEST(BuildExecProcess, FlagsOverrideAndAdd) {
  ExecOptions options;
  options.id = "c1";
  options.args = {"id"};
  options.env = {"A=1"};
  options.cwd = "/tmp";
  options.user = UserSpec{1000, 1001};
  options.additional_gids = {7, 8};
  options.caps = {"CAP_NET_ADMIN", "sys_admin", "CAP_KILL"};
  options.no_new_privs = true;
  options.tty = true;
  auto p = build_exec_process(options, container_process(), std::nullopt);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_THAT(p->env, ElementsAre("PATH=/bin", "HOME=/root", "A=1"));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 1001u);
  EXPECT_THAT(p->user.additional_gids, ElementsAre(7u, 8u));
  EXPECT_TRUE(p->no_new_privileges);
  EXPECT_TRUE(p->terminal);
  EXPECT_THAT(p->capabilities->bounding, ElementsAre("CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"));
  EXPECT_THAT(p->capabilities->effective,
              ElementsAre("CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"));
  // No inheritable set in the base: ambient capabilities could not be raised, so none are.
  EXPECT_TRUE(p->capabilities->ambient.empty());
}

TEST(BuildExecProcess, AUserWithoutAGroupKeepsTheBaseGroup) {
  ExecOptions options;
  options.args = {"id"};
  options.user = UserSpec{42, std::nullopt};
  auto p = build_exec_process(options, container_process(), std::nullopt);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user.uid, 42u);
  EXPECT_EQ(p->user.gid, 6u);
}

TEST(BuildExecProcess, AProcessFileReplacesTheContainersProcess) {
  Process from_file;
  from_file.args = {"top"};
  from_file.cwd = "/";
  ExecOptions options;
  options.env = {"B=2"};
  auto p = build_exec_process(options, container_process(), from_file);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->args, ElementsAre("top"));
  EXPECT_THAT(p->env, ElementsAre("B=2"));
  EXPECT_EQ(p->user.uid, 0u);
  EXPECT_FALSE(p->capabilities.has_value());
}

TEST(BuildExecProcess, NothingToRunIsAnError) {
  ExecOptions options;
  options.id = "c1";
  auto p = build_exec_process(options, container_process(), std::nullopt);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().what(), "exec in container c1: no command to run");
}

}  // namespace
}  // namespace corral::cli
