#include "runtime/spec/config_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "spec/example_config.hpp"

namespace corral {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Config parse_example() {
  auto config = parse_config(test::kFullExampleConfig, "/bundles/web");
  if (!config) ADD_FAILURE() << config.error().message();
  return config ? *config : Config{};
}

TEST(ConfigParser, FullExampleTopLevel) {
  Config c = parse_example();
  EXPECT_EQ(c.oci_version, "1.2.0");
  EXPECT_EQ(c.bundle, "/bundles/web");
  EXPECT_EQ(c.root.path, "/bundles/web/rootfs");
  EXPECT_TRUE(c.root.readonly);
  EXPECT_EQ(c.hostname, "web");
  EXPECT_EQ(c.domainname, "example.org");
  EXPECT_EQ(c.annotations, (std::map<std::string, std::string>{{"com.example.key1", "value1"},
                                                               {"key2", "value2"}}));
}

TEST(ConfigParser, FullExampleProcess) {
  Config c = parse_example();
  ASSERT_TRUE(c.process);
  const Process& p = *c.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 25u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1u);
  EXPECT_EQ(p.user.gid, 2u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_THAT(p.user.additional_gids, ElementsAre(5u, 6u));
  EXPECT_EQ(p.user.username, "daemon");
  EXPECT_THAT(p.args, ElementsAre("/bin/sh", "-c", "echo hi"));
  EXPECT_THAT(p.env, ElementsAre("PATH=/usr/bin:/bin", "TERM=xterm"));
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities);
  EXPECT_THAT(p.capabilities->bounding,
              ElementsAre("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
  EXPECT_THAT(p.capabilities->effective, ElementsAre("CAP_KILL"));
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_THAT(p.capabilities->permitted, ElementsAre("CAP_KILL", "CAP_CHECKPOINT_RESTORE"));
  EXPECT_THAT(p.capabilities->ambient, ElementsAre("CAP_NET_BIND_SERVICE"));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[0].name, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[1].resource, RLIMIT_CORE);
  EXPECT_EQ(p.rlimits[1].soft, 0u);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.apparmor_profile, "");
  EXPECT_EQ(p.selinux_label, "");
}

TEST(ConfigParser, FullExampleMounts) {
  Config c = parse_example();
  ASSERT_EQ(c.mounts.size(), 4u);
  EXPECT_EQ(c.mounts[0].destination, "/proc");
  EXPECT_EQ(c.mounts[0].type, "proc");
  EXPECT_EQ(c.mounts[0].source, "proc");
  EXPECT_EQ(c.mounts[0].flags, 0u);
  EXPECT_FALSE(c.mounts[0].is_bind());

  EXPECT_EQ(c.mounts[1].flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(c.mounts[1].data, "mode=755,size=65536k");
  EXPECT_THAT(c.mounts[1].options, ElementsAre("nosuid", "strictatime", "mode=755", "size=65536k"));

  // type "bind" alone makes a bind mount.
  EXPECT_TRUE(c.mounts[2].is_bind());
  EXPECT_EQ(c.mounts[2].flags, static_cast<unsigned long>(MS_BIND | MS_RDONLY));
  EXPECT_EQ(c.mounts[2].propagation_flags, static_cast<unsigned long>(MS_PRIVATE | MS_REC));

  EXPECT_TRUE(c.mounts[3].is_bind());
  EXPECT_EQ(c.mounts[3].type, "");
  EXPECT_EQ(c.mounts[3].flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_NOSUID));
  EXPECT_EQ(c.mounts[3].clear_flags, static_cast<unsigned long>(MS_RDONLY));
}

TEST(ConfigParser, FullExampleHooks) {
  Config c = parse_example();
  ASSERT_EQ(c.hooks.prestart.size(), 1u);
  EXPECT_EQ(c.hooks.prestart[0].path, "/usr/bin/fix-mounts");
  EXPECT_THAT(c.hooks.prestart[0].args, ElementsAre("fix-mounts", "arg1"));
  EXPECT_THAT(c.hooks.prestart[0].env, ElementsAre("key1=value1"));
  EXPECT_FALSE(c.hooks.prestart[0].timeout_seconds);
  ASSERT_EQ(c.hooks.create_runtime.size(), 1u);
  EXPECT_EQ(c.hooks.create_runtime[0].path, "/usr/bin/setup-network");
  ASSERT_EQ(c.hooks.create_container.size(), 1u);
  EXPECT_EQ(c.hooks.create_container[0].timeout_seconds, 5);
  ASSERT_EQ(c.hooks.start_container.size(), 1u);
  EXPECT_EQ(c.hooks.start_container[0].path, "/usr/bin/refresh-ldcache");
  ASSERT_EQ(c.hooks.poststart.size(), 1u);
  EXPECT_EQ(c.hooks.poststart[0].path, "/usr/bin/notify-start");
  ASSERT_EQ(c.hooks.poststop.size(), 1u);
  EXPECT_THAT(c.hooks.poststop[0].args, ElementsAre("cleanup.sh", "-f"));
}

TEST(ConfigParser, FullExampleNamespacesMappingsDevices) {
  Config c = parse_example();
  const Linux& l = c.linux_spec;
  ASSERT_EQ(l.namespaces.size(), 8u);
  const NamespaceType order[] = {
      NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount,  NamespaceType::Ipc,
      NamespaceType::Uts, NamespaceType::User,    NamespaceType::Cgroup, NamespaceType::Time};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(l.namespaces[i].type, order[i]) << i;
    ASSERT_NE(l.find_namespace(order[i]), nullptr);
    EXPECT_EQ(l.find_namespace(order[i])->type, order[i]);
  }
  EXPECT_EQ(l.find_namespace(NamespaceType::Network)->path, "/var/run/netns/blue");
  EXPECT_EQ(l.find_namespace(NamespaceType::Pid)->path, "");

  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(l.uid_mappings[0].size, 65536u);
  ASSERT_EQ(l.gid_mappings.size(), 1u);
  EXPECT_EQ(l.gid_mappings[0].host_id, 200000u);
  EXPECT_EQ(l.gid_mappings[0].size, 1000u);

  ASSERT_EQ(l.devices.size(), 3u);
  EXPECT_EQ(l.devices[0].path, "/dev/fuse");
  EXPECT_EQ(l.devices[0].type, 'c');
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 0666u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_EQ(l.devices[0].gid, 0u);
  EXPECT_EQ(l.devices[1].type, 'b');
  EXPECT_FALSE(l.devices[1].file_mode);
  EXPECT_FALSE(l.devices[1].uid);
  EXPECT_EQ(l.devices[2].type, 'p');
}

TEST(ConfigParser, FullExampleResources) {
  Config c = parse_example();
  const Linux& l = c.linux_spec;
  EXPECT_EQ(l.cgroups_path, "/corral/web");
  ASSERT_TRUE(l.resources);
  const Resources& r = *l.resources;
  ASSERT_EQ(r.devices.size(), 3u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_EQ(r.devices[0].type, 'a');
  EXPECT_FALSE(r.devices[0].major);
  EXPECT_EQ(r.devices[0].access, "rwm");
  EXPECT_TRUE(r.devices[1].allow);
  EXPECT_EQ(r.devices[1].type, 'c');
  EXPECT_EQ(r.devices[1].major, 10);
  EXPECT_EQ(r.devices[1].minor, 229);
  EXPECT_EQ(r.devices[1].access, "rw");
  EXPECT_EQ(r.devices[2].major, 8);
  EXPECT_FALSE(r.devices[2].minor);  // -1: any
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->reservation, 268435456);
  EXPECT_EQ(r.memory->swap, -1);
  EXPECT_EQ(r.memory->swappiness, 0u);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->shares, 1024u);
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->mems, "0");
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, 32);
}

TEST(ConfigParser, FullExampleSysctlSeccompAndPaths) {
  Config c = parse_example();
  const Linux& l = c.linux_spec;
  EXPECT_EQ(l.sysctl, (std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"},
                                                          {"kernel.shmmax", "4096"}}));
  EXPECT_THAT(l.masked_paths, ElementsAre("/proc/kcore", "/sys/firmware"));
  EXPECT_THAT(l.readonly_paths, ElementsAre("/proc/sys", "/proc/sysrq-trigger"));
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.mount_label, "");

  ASSERT_TRUE(l.seccomp);
  const Seccomp& s = *l.seccomp;
  EXPECT_EQ(s.default_action, SeccompAction::Errno);
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_THAT(s.architectures, ElementsAre("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
  EXPECT_THAT(s.flags, ElementsAre("SECCOMP_FILTER_FLAG_LOG"));
  ASSERT_EQ(s.syscalls.size(), 3u);
  EXPECT_THAT(s.syscalls[0].names, ElementsAre("read", "write"));
  EXPECT_EQ(s.syscalls[0].action, SeccompAction::Allow);
  EXPECT_FALSE(s.syscalls[0].errno_ret);
  ASSERT_EQ(s.syscalls[1].args.size(), 2u);
  EXPECT_EQ(s.syscalls[1].args[0].index, 0u);
  EXPECT_EQ(s.syscalls[1].args[0].value, 8u);
  EXPECT_EQ(s.syscalls[1].args[0].op, SeccompOperator::EqualTo);
  EXPECT_EQ(s.syscalls[1].args[1].index, 5u);
  EXPECT_EQ(s.syscalls[1].args[1].value, 255u);
  EXPECT_EQ(s.syscalls[1].args[1].value_two, 8u);
  EXPECT_EQ(s.syscalls[1].args[1].op, SeccompOperator::MaskedEqual);
  EXPECT_EQ(s.syscalls[2].action, SeccompAction::Errno);
  EXPECT_EQ(s.syscalls[2].errno_ret, 13u);
}

TEST(ConfigParser, EveryActionAndOperatorName) {
  const std::pair<const char*, SeccompAction> actions[] = {
      {"SCMP_ACT_KILL", SeccompAction::Kill},
      {"SCMP_ACT_KILL_PROCESS", SeccompAction::KillProcess},
      {"SCMP_ACT_KILL_THREAD", SeccompAction::KillThread},
      {"SCMP_ACT_TRAP", SeccompAction::Trap},
      {"SCMP_ACT_ERRNO", SeccompAction::Errno},
      {"SCMP_ACT_TRACE", SeccompAction::Trace},
      {"SCMP_ACT_ALLOW", SeccompAction::Allow},
      {"SCMP_ACT_LOG", SeccompAction::Log},
      {"SCMP_ACT_NOTIFY", SeccompAction::Notify}};
  const std::pair<const char*, SeccompOperator> ops[] = {
      {"SCMP_CMP_NE", SeccompOperator::NotEqual},
      {"SCMP_CMP_LT", SeccompOperator::LessThan},
      {"SCMP_CMP_LE", SeccompOperator::LessEqual},
      {"SCMP_CMP_EQ", SeccompOperator::EqualTo},
      {"SCMP_CMP_GE", SeccompOperator::GreaterEqual},
      {"SCMP_CMP_GT", SeccompOperator::GreaterThan},
      {"SCMP_CMP_MASKED_EQ", SeccompOperator::MaskedEqual}};
  for (auto [name, action] : actions) {
    for (auto [op_name, op] : ops) {
      std::string text = std::string(R"({"ociVersion":"1.0.0","root":{"path":"/r"},)") +
                         R"("linux":{"seccomp":{"defaultAction":")" + name +
                         R"(","syscalls":[{"names":["x"],"action":")" + name +
                         R"(","args":[{"index":1,"value":2,"op":")" + op_name + R"("}]}]}}})";
      auto c = parse_config(text, "/b");
      ASSERT_TRUE(c) << c.error().message();
      EXPECT_EQ(c->linux_spec.seccomp->default_action, action);
      EXPECT_EQ(c->linux_spec.seccomp->syscalls[0].action, action);
      EXPECT_EQ(c->linux_spec.seccomp->syscalls[0].args[0].op, op);
    }
  }
}

TEST(ConfigParser, MinimalConfigHasDefaults) {
  auto c = parse_config(R"({"ociVersion":"1.0.0","root":{"path":"/abs/root"}})", "relative/b");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->root.path, "/abs/root");  // absolute paths are kept
  EXPECT_FALSE(c->root.readonly);
  EXPECT_FALSE(c->process);
  EXPECT_EQ(c->bundle, (std::filesystem::current_path() / "relative/b").string());
  EXPECT_TRUE(c->mounts.empty());
  EXPECT_TRUE(c->linux_spec.namespaces.empty());
  EXPECT_EQ(c->linux_spec.find_namespace(NamespaceType::Pid), nullptr);
}

TEST(ConfigParser, RootPathIsNormalisedAgainstTheBundle) {
  auto c = parse_config(R"({"ociVersion":"1.0.0","root":{"path":"./a/../rootfs/"}})", "/b//x/");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->bundle, "/b/x");
  EXPECT_EQ(c->root.path, "/b/x/rootfs");
}

TEST(ConfigParser, NullMeansAbsent) {
  auto c = parse_config(
      R"({"ociVersion":"1.0.0","root":{"path":"/r"},"hostname":null,"process":{"args":["sh"],"capabilities":null,"rlimits":null},"linux":{"resources":null,"seccomp":null}})",
      "/b");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->process->capabilities);
  EXPECT_FALSE(c->linux_spec.resources);
  EXPECT_FALSE(c->linux_spec.seccomp);
}

TEST(ConfigParser, LegacyLinuxOomScoreAdj) {
  auto c = parse_config(
      R"({"ociVersion":"1.0.0","root":{"path":"/r"},"process":{"args":["sh"]},"linux":{"oomScoreAdj":100}})",
      "/b");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->process->oom_score_adj, 100);
}

class TempBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-spec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TempBundle, LoadConfigReadsBundleConfigJson) {
  std::ofstream(dir_ + "/config.json") << test::kFullExampleConfig;
  auto c = load_config(dir_);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->bundle, dir_);
  EXPECT_EQ(c->root.path, dir_ + "/rootfs");
  EXPECT_EQ(c->hostname, "web");
}

TEST_F(TempBundle, LoadConfigMissingFileNamesThePath) {
  auto c = load_config(dir_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_THAT(c.error().message(), HasSubstr(dir_ + "/config.json"));
  EXPECT_THAT(c.error().message(), HasSubstr("No such file or directory"));
  EXPECT_EQ(c.error().cause().errno_value, ENOENT);
}

TEST_F(TempBundle, LoadConfigParseErrorNamesFileAndField) {
  std::ofstream(dir_ + "/config.json")
      << R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"user":{"uid":"0"}}})";
  auto c = load_config(dir_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("process.user.uid"));
  EXPECT_THAT(c.error().message(), HasSubstr(dir_ + "/config.json"));
}

}  // namespace
}  // namespace corral
