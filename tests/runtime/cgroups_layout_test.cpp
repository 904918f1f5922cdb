#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <unistd.h>

#include "runtime/cgroups/layout.hpp"

namespace corral::cgroups {
namespace {

// This host's lines: v1 hierarchies under a tmpfs at /sys/fs/cgroup, cgroup2 at .../unified.
constexpr std::string_view kHybrid =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupLayout, HybridHostIsV1AndIgnoresTheUnifiedMount) {
  auto layout = parse_layout(kHybrid, "test");
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->version, Version::V1);
  const std::map<std::string, std::string> expected = {
      {"cpu", "/sys/fs/cgroup/cpu"},
      {"cpuacct", "/sys/fs/cgroup/cpuacct"},
      {"cpuset", "/sys/fs/cgroup/cpuset"},
      {"memory", "/sys/fs/cgroup/memory"},
      {"name=systemd", "/sys/fs/cgroup/systemd"},
  };
  EXPECT_EQ(layout->v1_roots, expected);
  EXPECT_TRUE(layout->unified_root.empty());
}

TEST(CgroupLayout, PureV2) {
  auto layout = parse_layout(
      "25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n",
      "test");
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->version, Version::V2);
  EXPECT_EQ(layout->unified_root, "/sys/fs/cgroup");
  EXPECT_TRUE(layout->v1_roots.empty());
}

TEST(CgroupLayout, CoMountedControllersShareAHierarchy) {
  auto layout = parse_layout(
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "32 30 0:29 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n",
      "test");
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->version, Version::V1);
  EXPECT_EQ(layout->v1_roots.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_roots.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_roots.at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(layout->v1_roots.count("rw"), 0u);
}

TEST(CgroupLayout, OnlyACgroup2MountElsewhereIsV2There) {
  auto layout = parse_layout("40 30 0:37 / /mnt/cg\\0402 rw - cgroup2 cgroup2 rw\n", "test");
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->version, Version::V2);
  EXPECT_EQ(layout->unified_root, "/mnt/cg 2");  // \040 is a space
}

TEST(CgroupLayout, NoCgroupMountIsUnsupportedNamingTheSource) {
  auto layout =
      parse_layout("22 1 0:21 / /sys rw - sysfs sysfs rw\ngarbage line\n", "my-mountinfo");
  ASSERT_FALSE(layout);
  EXPECT_EQ(layout.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(layout.error().message().find("my-mountinfo"), std::string::npos);
}

TEST(CgroupLayout, DetectReadsTheInjectedFile) {
  const std::string path = "/tmp/corral-mountinfo-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    out << kHybrid;
  }
  auto layout = detect_layout(path);
  std::remove(path.c_str());
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->version, Version::V1);
  EXPECT_EQ(layout->v1_roots.size(), 5u);

  auto missing = detect_layout(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().cause().errno_value, ENOENT);
  EXPECT_NE(missing.error().message().find(path), std::string::npos);
}

TEST(CgroupLayout, UnescapeMountinfoField) {
  EXPECT_EQ(unescape_mountinfo_field("a\\040b\\011c\\134d"), "a b\tc\\d");
  EXPECT_EQ(unescape_mountinfo_field("plain\\"), "plain\\");
}

}  // namespace
}  // namespace corral::cgroups
