#include <gtest/gtest.h>

#include "runtime/cgroups/cgroup_path.hpp"

namespace corral::cgroups {
namespace {

TEST(CgroupPath, DefaultIsParentSlashId) {
  auto path = resolve_cgroup_path("", "/corral", "abc");
  ASSERT_TRUE(path) << path.error().what();
  EXPECT_EQ(*path, "/corral/abc");
}

TEST(CgroupPath, ResolutionTable) {
  struct Case {
    std::string cgroups_path;
    std::string parent;
    std::string expected;
  };
  const Case cases[] = {
      {"/a/b", "/corral", "/a/b"},        // absolute: relative to the cgroup root
      {"//a/./b/", "/corral", "/a/b"},    // normalized
      {"a/b", "/corral", "/corral/a/b"},  // relative: below the parent
      {"x", "corral/nested", "/corral/nested/x"},
      {"/host:port", "/corral", "/host:port"},  // a colon alone is just a name
      {"a:b", "/corral", "/corral/a:b"},
  };
  for (const auto& c : cases) {
    auto path = resolve_cgroup_path(c.cgroups_path, c.parent, "id");
    ASSERT_TRUE(path) << c.cgroups_path << ": " << path.error().what();
    EXPECT_EQ(*path, c.expected) << c.cgroups_path;
  }
}

TEST(CgroupPath, DotDotIsRefusedNamingThePath) {
  for (const std::string bad : {"/../etc", "../x", "/a/../b", "a/..", "/a/b/.."}) {
    auto path = resolve_cgroup_path(bad, "/corral", "id");
    ASSERT_FALSE(path) << bad;
    EXPECT_EQ(path.error().code(), ErrorCode::ConfigInvalid) << bad;
    EXPECT_NE(path.error().message().find(bad), std::string::npos) << path.error().message();
  }
}

TEST(CgroupPath, DotDotInTheParentOrIdIsRefused) {
  EXPECT_FALSE(resolve_cgroup_path("x", "/corral/..", "id"));
  auto by_id = resolve_cgroup_path("", "/corral", "..");
  ASSERT_FALSE(by_id);
  EXPECT_EQ(by_id.error().code(), ErrorCode::ConfigInvalid);
}

TEST(CgroupPath, TheRootItselfIsRefused) {
  for (const std::string root : {"/", "//", "/./"}) {
    auto path = resolve_cgroup_path(root, "/corral", "id");
    ASSERT_FALSE(path) << root;
    EXPECT_EQ(path.error().code(), ErrorCode::ConfigInvalid);
  }
}

TEST(CgroupPath, NulByteIsRefused) {
  auto path = resolve_cgroup_path(std::string("/a\0b", 4), "/corral", "id");
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().code(), ErrorCode::ConfigInvalid);
}

TEST(CgroupPath, SystemdStyleIsUnsupported) {
  for (const std::string systemd : {"system.slice:corral:abc", ":corral:abc", "user.slice::x"}) {
    EXPECT_TRUE(is_systemd_cgroup_path(systemd)) << systemd;
    auto path = resolve_cgroup_path(systemd, "/corral", "id");
    ASSERT_FALSE(path) << systemd;
    EXPECT_EQ(path.error().code(), ErrorCode::Unsupported);
    EXPECT_NE(path.error().message().find("systemd"), std::string::npos);
    EXPECT_NE(path.error().message().find(systemd), std::string::npos);
  }
  EXPECT_FALSE(is_systemd_cgroup_path("/a:b:c"));
  EXPECT_FALSE(is_systemd_cgroup_path("a/b:c:d"));
}

TEST(CgroupPath, NormalizeAbsolutePath) {
  EXPECT_EQ(normalize_absolute_path("/sys//fs/./cgroup/"), "/sys/fs/cgroup");
  EXPECT_EQ(normalize_absolute_path("/"), "/");
  EXPECT_EQ(normalize_absolute_path("relative"), "");
  EXPECT_EQ(normalize_absolute_path("/a/../b"), "");
  EXPECT_EQ(normalize_absolute_path(""), "");
}

}  // namespace
}  // namespace corral::cgroups
