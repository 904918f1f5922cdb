#include "apps/corral/features.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <set>

#include "apps/corral/version.hpp"
#include "runtime/spec/capabilities.hpp"
#include "runtime/spec/config_names.hpp"
#include "runtime/spec/mount_options.hpp"

namespace corral::cli {
namespace {

using ::testing::Contains;

TEST(Features, EveryListedMountOptionIsUnderstoodByTheParser) {
  for (std::string_view name : supported_mount_options()) {
    auto parsed = parse_mount_options({std::string(name)});
    ASSERT_TRUE(parsed) << name << ": " << parsed.error().what();
    // Understood means turned into flags; an unknown option would come back as data.
    EXPECT_EQ(parsed->data, "") << name;
  }
}

TEST(Features, CapabilitiesAreExactlyTheKnownOnes) {
  const auto& caps = supported_capabilities();
  EXPECT_EQ(static_cast<int>(caps.size()), last_known_capability() + 1);
  for (std::size_t i = 0; i < caps.size(); ++i) {
    EXPECT_EQ(capability_number(caps[i]), static_cast<int>(i)) << caps[i];
  }
}

TEST(Features, SeccompArchitecturesAreKnown) {
  for (std::string_view arch : supported_seccomp_architectures()) {
    EXPECT_TRUE(is_known_seccomp_architecture(arch)) << arch;
  }
  EXPECT_THAT(supported_seccomp_architectures(), Contains("SCMP_ARCH_X86_64"));
}

TEST(Features, Document) {
  auto doc = features_document();
  EXPECT_EQ(doc["ociVersionMin"], "1.0.0");
  EXPECT_EQ(doc["ociVersionMax"], kSpecVersionMax);
  const auto& linux_features = doc["linux"];
  EXPECT_EQ(linux_features["cgroup"]["v1"], true);
  EXPECT_EQ(linux_features["cgroup"]["v2"], true);
  EXPECT_EQ(linux_features["cgroup"]["systemd"], false);
  EXPECT_EQ(linux_features["seccomp"]["enabled"], true);
  EXPECT_EQ(linux_features["apparmor"]["enabled"], false);
  EXPECT_EQ(linux_features["selinux"]["enabled"], false);
  std::set<std::string> namespaces;
  for (const auto& ns : linux_features["namespaces"]) {
    namespaces.insert(ns.get<std::string>());
    EXPECT_TRUE(parse_namespace_type(ns.get<std::string>())) << ns;
  }
  EXPECT_EQ(namespaces, (std::set<std::string>{"pid", "network", "mount", "ipc", "uts", "user",
                                               "cgroup", "time"}));
  for (const auto& action : linux_features["seccomp"]["actions"]) {
    EXPECT_TRUE(parse_seccomp_action(action.get<std::string>())) << action;
    EXPECT_NE(action, "SCMP_ACT_NOTIFY");  // the init refuses it
  }
  EXPECT_EQ(linux_features["seccomp"]["operators"].size(), 7u);
  for (const auto& op : linux_features["seccomp"]["operators"]) {
    EXPECT_TRUE(parse_seccomp_operator(op.get<std::string>())) << op;
  }
  EXPECT_EQ(doc["mountOptions"].size(), supported_mount_options().size());
  EXPECT_EQ(linux_features["capabilities"].size(), supported_capabilities().size());
  EXPECT_EQ(doc["annotations"]["io.github.corral.version"], corral_version());
}

}  // namespace
}  // namespace corral::cli
