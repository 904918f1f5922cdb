#include "runtime/spec/default_spec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/spec/config_parser.hpp"

namespace corral {
namespace {

using ::testing::ElementsAre;

const Mount* find_mount(const Config& c, const std::string& destination) {
  for (const Mount& m : c.mounts) {
    if (m.destination == destination) return &m;
  }
  return nullptr;
}

TEST(DefaultSpec, ParsesBackIntoTheRunscDefaults) {
  nlohmann::json spec = default_spec(false);
  EXPECT_EQ(spec["ociVersion"], "1.0.2-dev");
  auto c = parse_config(spec.dump(2), "/bundle");
  ASSERT_TRUE(c) << c.error().message();

  ASSERT_TRUE(c->process);
  EXPECT_THAT(c->process->args, ElementsAre("sh"));
  EXPECT_TRUE(c->process->terminal);
  EXPECT_EQ(c->process->cwd, "/");
  EXPECT_EQ(c->process->user.uid, 0u);
  ASSERT_TRUE(c->process->capabilities);
  EXPECT_THAT(c->process->capabilities->bounding,
              ElementsAre("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
  EXPECT_EQ(c->process->capabilities->effective, c->process->capabilities->bounding);
  EXPECT_EQ(c->process->capabilities->permitted, c->process->capabilities->bounding);
  ASSERT_EQ(c->process->rlimits.size(), 1u);
  EXPECT_EQ(c->process->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(c->process->rlimits[0].soft, 1024u);
  EXPECT_EQ(c->process->rlimits[0].hard, 1024u);
  EXPECT_TRUE(c->process->no_new_privileges);

  EXPECT_EQ(c->root.path, "/bundle/rootfs");
  EXPECT_TRUE(c->root.readonly);

  for (const char* destination :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}) {
    EXPECT_NE(find_mount(*c, destination), nullptr) << destination;
  }
  EXPECT_EQ(find_mount(*c, "/sys")->type, "sysfs");
  EXPECT_EQ(find_mount(*c, "/sys")->flags,
            static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(find_mount(*c, "/dev")->data, "mode=755,size=65536k");
  EXPECT_THAT(find_mount(*c, "/dev/pts")->data, ::testing::HasSubstr("gid=5"));

  const Linux& l = c->linux_spec;
  for (NamespaceType t : {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Ipc,
                          NamespaceType::Uts, NamespaceType::Mount}) {
    EXPECT_NE(l.find_namespace(t), nullptr);
  }
  EXPECT_EQ(l.find_namespace(NamespaceType::User), nullptr);
  EXPECT_TRUE(l.uid_mappings.empty());
  EXPECT_THAT(l.masked_paths, ::testing::Contains("/proc/kcore"));
  EXPECT_THAT(l.readonly_paths, ::testing::Contains("/proc/sys"));
  ASSERT_TRUE(l.resources);
  ASSERT_EQ(l.resources->devices.size(), 1u);
  EXPECT_FALSE(l.resources->devices[0].allow);
  EXPECT_EQ(l.resources->devices[0].access, "rwm");
}

TEST(DefaultSpec, RootlessMapsTheCallerAndDropsWhatNeedsPrivilege) {
  auto c = parse_config(default_spec(true).dump(), "/bundle");
  ASSERT_TRUE(c) << c.error().message();
  const Linux& l = c->linux_spec;
  EXPECT_NE(l.find_namespace(NamespaceType::User), nullptr);
  EXPECT_EQ(l.find_namespace(NamespaceType::Network), nullptr);
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, ::geteuid());
  EXPECT_EQ(l.uid_mappings[0].size, 1u);
  ASSERT_EQ(l.gid_mappings.size(), 1u);
  EXPECT_EQ(l.gid_mappings[0].host_id, ::getegid());
  EXPECT_FALSE(l.resources);

  EXPECT_EQ(find_mount(*c, "/sys/fs/cgroup"), nullptr);
  const Mount* sys = find_mount(*c, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_TRUE(sys->is_bind());
  EXPECT_EQ(sys->flags & (MS_REC | MS_RDONLY), static_cast<unsigned long>(MS_REC | MS_RDONLY));
  EXPECT_THAT(find_mount(*c, "/dev/pts")->data, ::testing::Not(::testing::HasSubstr("gid=")));
}

}  // namespace
}  // namespace corral
