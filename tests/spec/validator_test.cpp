#include "runtime/spec/validator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "runtime/spec/config_parser.hpp"

namespace corral {
namespace {

using ::testing::HasSubstr;

class Validator : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-validator-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    bundle_ = tmpl;
    std::filesystem::create_directory(bundle_ + "/rootfs");
    auto parsed = parse_config(default_spec(false).dump(), bundle_);
    ASSERT_TRUE(parsed) << parsed.error().message();
    config_ = *parsed;
  }
  void TearDown() override { std::filesystem::remove_all(bundle_); }

  // Applies the change to the valid default config and expects the validator to refuse it with
  // a message containing every one of `says`.
  void expect_refused(const std::function<void(Config&)>& change,
                      std::initializer_list<std::string> says) {
    Config c = config_;
    change(c);
    auto result = validate_config(c);
    ASSERT_FALSE(result) << "expected: " << *says.begin();
    EXPECT_EQ(result.error().code(), ErrorCode::ConfigInvalid);
    for (const std::string& s : says) EXPECT_THAT(result.error().message(), HasSubstr(s));
  }

  void expect_accepted(const std::function<void(Config&)>& change) {
    Config c = config_;
    change(c);
    auto result = validate_config(c);
    EXPECT_TRUE(result) << result.error().message();
  }

  static void remove_namespace(Config& c, NamespaceType type) {
    std::erase_if(c.linux_spec.namespaces, [type](const Namespace& ns) { return ns.type == type; });
  }

  std::string bundle_;
  Config config_;
};

TEST_F(Validator, DefaultSpecIsValid) {
  auto result = validate_config(config_);
  EXPECT_TRUE(result) << result.error().message();
}

TEST_F(Validator, RootfsMustExistAndBeADirectory) {
  expect_refused([&](Config& c) { c.root.path = bundle_ + "/nope"; },
                 {"root.path", bundle_ + "/nope", "No such file or directory"});
  std::ofstream(bundle_ + "/file") << "x";
  expect_refused([&](Config& c) { c.root.path = bundle_ + "/file"; },
                 {"root.path", bundle_ + "/file", "is not a directory"});
}

TEST_F(Validator, HostnameAndDomainnameNeedUts) {
  expect_refused(
      [](Config& c) {
        c.hostname = "web";
        remove_namespace(c, NamespaceType::Uts);
      },
      {"config: hostname: \"web\" needs a UTS namespace", "linux.namespaces has no \"uts\""});
  expect_refused(
      [](Config& c) {
        c.hostname.clear();
        c.domainname = "example.org";
        remove_namespace(c, NamespaceType::Uts);
      },
      {"domainname: \"example.org\" needs a UTS namespace"});
  expect_accepted([](Config& c) {
    c.hostname.clear();
    remove_namespace(c, NamespaceType::Uts);
  });
}

TEST_F(Validator, MappingsAndUserNamespaceGoTogether) {
  expect_refused(
      [](Config& c) {
        c.linux_spec.uid_mappings.push_back({0, 1000, 1});
      },
      {"linux.uidMappings", "need a user namespace", "no \"user\""});
  expect_refused(
      [](Config& c) {
        c.linux_spec.gid_mappings.push_back({0, 1000, 1});
      },
      {"linux.gidMappings", "need a user namespace"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.namespaces.push_back({NamespaceType::User, ""});
      },
      {"linux.namespaces", "a new \"user\" namespace needs linux.uidMappings"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.namespaces.push_back({NamespaceType::User, ""});
        c.linux_spec.uid_mappings.push_back({0, 1000, 1});
      },
      {"needs linux.gidMappings"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.namespaces.push_back({NamespaceType::User, ""});
        c.linux_spec.uid_mappings.push_back({0, 1000, 1});
        c.linux_spec.gid_mappings.push_back({0, 1000, 0});
      },
      {"linux.gidMappings[0].size", "0 maps no ids"});
  expect_accepted([](Config& c) {
    c.linux_spec.namespaces.push_back({NamespaceType::User, ""});
    c.linux_spec.uid_mappings.push_back({0, 1000, 1});
    c.linux_spec.gid_mappings.push_back({0, 1000, 1});
  });
  // Joining an existing user namespace brings its mappings along.
  expect_accepted([](Config& c) {
    c.linux_spec.namespaces.push_back({NamespaceType::User, "/proc/1/ns/user"});
  });
}

TEST_F(Validator, SysctlsMustBeNamespaced) {
  expect_accepted([](Config& c) {
    c.linux_spec.sysctl = {{"kernel.msgmax", "8192"},     {"kernel.shmmax", "1"},
                           {"kernel.sem", "1 2 3 4"},     {"fs.mqueue.msg_max", "10"},
                           {"net.ipv4.ip_forward", "1"},  {"net/ipv4/tcp_syncookies", "1"},
                           {"kernel.domainname", "x.org"}};
  });
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"vm.swappiness", "10"}};
      },
      {"linux.sysctl[\"vm.swappiness\"]", "\"vm.swappiness\"=\"10\"", "not a namespaced sysctl"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"kernel.pid_max", "100"}};
      },
      {"kernel.pid_max", "not a namespaced sysctl"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"kernel.shmall", "1"}};
        remove_namespace(c, NamespaceType::Ipc);
      },
      {"linux.sysctl[\"kernel.shmall\"]", "needs its own \"ipc\" namespace", "no \"ipc\""});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"fs.mqueue.queues_max", "1"}};
        remove_namespace(c, NamespaceType::Ipc);
      },
      {"fs.mqueue.queues_max", "needs its own \"ipc\" namespace"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"net.core.somaxconn", "1"}};
        remove_namespace(c, NamespaceType::Network);
      },
      {"net.core.somaxconn", "needs its own \"network\" namespace"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"net.core.somaxconn", "1"}};
        remove_namespace(c, NamespaceType::Network);
        c.linux_spec.namespaces.push_back({NamespaceType::Network, "/proc/self/ns/net"});
      },
      {"net.core.somaxconn", "\"/proc/self/ns/net\" is the host's"});
  expect_refused(
      [](Config& c) {
        c.linux_spec.sysctl = {{"kernel.hostname", "h"}};
        remove_namespace(c, NamespaceType::Uts);
        c.hostname.clear();
      },
      {"kernel.hostname", "needs its own \"uts\" namespace"});
}

TEST_F(Validator, PathsMustBeAbsolute) {
  expect_refused([](Config& c) { c.mounts[2].destination = "dev/pts"; },
                 {"mounts[2].destination", "\"dev/pts\" is not an absolute path"});
  expect_refused([](Config& c) { c.process->cwd = "work"; },
                 {"process.cwd", "\"work\" is not an absolute path"});
  expect_refused([](Config& c) { c.linux_spec.namespaces[1].path = "netns/blue"; },
                 {"linux.namespaces[1].path", "\"netns/blue\"", "network namespace"});
  expect_refused([](Config& c) { c.linux_spec.masked_paths.push_back("proc/kcore"); },
                 {"linux.maskedPaths[10]", "\"proc/kcore\" is not an absolute path"});
  expect_refused([](Config& c) { c.linux_spec.readonly_paths[0] = "proc/bus"; },
                 {"linux.readonlyPaths[0]", "\"proc/bus\""});
}

TEST_F(Validator, ProcessArgsMustNotBeEmpty) {
  expect_refused([](Config& c) { c.process->args.clear(); }, {"process.args", "empty"});
  expect_accepted([](Config& c) { c.process.reset(); });
}

TEST_F(Validator, CgroupsPathMustNotClimb) {
  expect_refused([](Config& c) { c.linux_spec.cgroups_path = "/corral/../../escape"; },
                 {"linux.cgroupsPath", "\"/corral/../../escape\"", "\"..\""});
  expect_refused([](Config& c) { c.linux_spec.cgroups_path = ".."; }, {"linux.cgroupsPath"});
  expect_accepted([](Config& c) { c.linux_spec.cgroups_path = "/corral/a..b/web"; });
  expect_accepted([](Config& c) { c.linux_spec.cgroups_path = "system.slice:corral:web"; });
}

TEST_F(Validator, SeccompArchitecturesMustBeKnown) {
  expect_accepted([](Config& c) {
    c.linux_spec.seccomp = Seccomp{};
    c.linux_spec.seccomp->architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"};
  });
  expect_refused(
      [](Config& c) {
        c.linux_spec.seccomp = Seccomp{};
        c.linux_spec.seccomp->architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
      },
      {"linux.seccomp.architectures[1]", "unknown architecture \"SCMP_ARCH_Z80\""});
}

}  // namespace
}  // namespace corral
