// What parse_config refuses, and that every refusal names the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/capability.h>

#include <cctype>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/spec/capabilities.hpp"
#include "runtime/spec/config_parser.hpp"
#include "spec/example_config.hpp"

namespace corral {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json example() {
  return json::parse(test::kFullExampleConfig);
}

// Sets the value at a JSON pointer ("/process/user/uid") of the full example and parses it.
Expected<Config> parse_with(const std::string& pointer, json value) {
  json doc = example();
  doc[json::json_pointer(pointer)] = std::move(value);
  return parse_config(doc.dump(), "/b");
}

void expect_invalid(const Expected<Config>& result, const std::string& says) {
  ASSERT_FALSE(result) << "expected an error saying: " << says;
  EXPECT_EQ(result.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_THAT(result.error().message(), HasSubstr(says));
  EXPECT_THAT(result.error().message(), ::testing::StartsWith("config.json: "));
  EXPECT_EQ(result.error().what(), result.error().message());  // nothing said twice
}

TEST(ConfigErrors, MalformedJson) {
  expect_invalid(parse_config("{", "/b"), "malformed JSON");
  expect_invalid(parse_config("", "/b"), "malformed JSON");
  expect_invalid(parse_config("[]", "/b"), "expected a JSON object, got array");
}

TEST(ConfigErrors, RequiredFields) {
  expect_invalid(parse_config(R"({"root":{"path":"r"}})", "/b"), "ociVersion: required");
  expect_invalid(parse_config(R"({"ociVersion":"1.0.0"})", "/b"), "root: required");
  expect_invalid(parse_config(R"({"ociVersion":"1.0.0","root":{}})", "/b"), "root.path: required");
  expect_invalid(parse_config(R"({"ociVersion":"2.0.0","root":{"path":"r"}})", "/b"),
                 "ociVersion: \"2.0.0\" is not a runtime-spec 1.x version");
  json doc = example();
  doc["mounts"][1].erase("destination");
  expect_invalid(parse_config(doc.dump(), "/b"), "mounts[1].destination: required");
}

TEST(ConfigErrors, TypeErrorsNameTheJsonPath) {
  expect_invalid(parse_with("/process/user/uid", "0"),
                 "config.json: process.user.uid: expected an unsigned integer, got string");
  expect_invalid(parse_with("/process/user/uid", -1),
                 "process.user.uid: expected an unsigned integer, got integer");
  expect_invalid(parse_with("/process/user/uid", 4294967296),
                 "process.user.uid: 4294967296 is out of range");
  expect_invalid(parse_with("/process/user/gid", 1.5),
                 "process.user.gid: expected an unsigned integer, got number");
  expect_invalid(parse_with("/process/terminal", "yes"),
                 "process.terminal: expected a boolean, got string");
  expect_invalid(parse_with("/process/args", "sh"), "process.args: expected an array, got string");
  expect_invalid(parse_with("/process/args/1", 7),
                 "process.args[1]: expected a string, got unsigned integer");
  expect_invalid(parse_with("/process", json::array()), "process: expected an object, got array");
  expect_invalid(parse_with("/mounts/2/options/0", true),
                 "mounts[2].options[0]: expected a string, got boolean");
  expect_invalid(parse_with("/linux/resources/memory/limit", "1G"),
                 "linux.resources.memory.limit: expected an integer, got string");
  expect_invalid(parse_with("/linux/resources/pids/limit", json::object()),
                 "linux.resources.pids.limit: expected an integer, got object");
  expect_invalid(parse_with("/linux/sysctl/net.ipv4.ip_forward", 1),
                 "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got unsigned integer");
  expect_invalid(parse_with("/annotations/key2", false),
                 "annotations.key2: expected a string, got boolean");
  expect_invalid(parse_with("/linux/seccomp/syscalls/1/args/0/value", -8),
                 "linux.seccomp.syscalls[1].args[0].value: expected an unsigned integer");
  expect_invalid(parse_with("/hooks/poststop/0/path", 3),
                 "hooks.poststop[0].path: expected a string");
  expect_invalid(parse_with("/linux/uidMappings/0/size", "1"),
                 "linux.uidMappings[0].size: expected an unsigned integer, got string");
  expect_invalid(parse_with("/process/oomScoreAdj", 1001), "process.oomScoreAdj: 1001 is outside");
  expect_invalid(parse_with("/hooks/prestart/0/timeout", 0),
                 "hooks.prestart[0].timeout: 0 is not greater than zero");
}

TEST(ConfigErrors, UnknownNamesAreRefused) {
  expect_invalid(parse_with("/process/rlimits/0/type", "RLIMIT_FOO"),
                 "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
  expect_invalid(parse_with("/process/rlimits/1/type", "RLIMIT_NOFILE"),
                 "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  expect_invalid(parse_with("/process/capabilities/effective/0", "CAP_FLY"),
                 "process.capabilities.effective[0]: unknown capability \"CAP_FLY\"");
  expect_invalid(parse_with("/process/capabilities/bounding/0", "cap_kill"),
                 "unknown capability \"cap_kill\"");
  expect_invalid(parse_with("/linux/namespaces/0/type", "proc"),
                 "linux.namespaces[0].type: unknown namespace type \"proc\"");
  expect_invalid(parse_with("/linux/namespaces/1/type", "pid"),
                 "linux.namespaces[1].type: duplicate namespace \"pid\"");
  expect_invalid(parse_with("/linux/seccomp/defaultAction", "SCMP_ACT_MAYBE"),
                 "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\"");
  expect_invalid(parse_with("/linux/seccomp/syscalls/2/action", "allow"),
                 "linux.seccomp.syscalls[2].action: unknown seccomp action \"allow\"");
  expect_invalid(
      parse_with("/linux/seccomp/syscalls/1/args/0/op", "SCMP_CMP_ABOUT"),
      "linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator \"SCMP_CMP_ABOUT\"");
  expect_invalid(parse_with("/linux/seccomp/syscalls/1/args/0/index", 6),
                 "linux.seccomp.syscalls[1].args[0].index: 6 is not an argument index");
  expect_invalid(parse_with("/linux/seccomp/flags/0", "SECCOMP_FILTER_FLAG_MAGIC"),
                 "linux.seccomp.flags[0]: unknown seccomp flag");
  expect_invalid(parse_with("/linux/devices/0/type", "x"),
                 "linux.devices[0].type: device type \"x\" is not one of \"cbup\"");
  expect_invalid(parse_with("/linux/resources/devices/1/access", "rwx"),
                 "linux.resources.devices[1].access: \"rwx\" is not a combination");
  expect_invalid(parse_with("/linux/rootfsPropagation", "sideways"),
                 "linux.rootfsPropagation: \"sideways\" is not a mount propagation");
  expect_invalid(parse_with("/mounts/3/options/0", "ridmap"),
                 "mounts[3].options: mount option \"ridmap\" is not supported");
}

// The table is checked against libcap's own names (an independent source), and the kernel's
// last capability must be in it: a capability the kernel has cannot be refused as unknown.
TEST(ConfigErrors, CapabilityTableMatchesLibcapAndTheKernel) {
  auto names = capability_names();
  ASSERT_EQ(static_cast<int>(names.size()), last_known_capability() + 1);
  for (int number = 0; number <= last_known_capability(); ++number) {
    char* libcap_name = cap_to_name(static_cast<cap_value_t>(number));
    ASSERT_NE(libcap_name, nullptr);
    std::string expected = libcap_name;
    cap_free(libcap_name);
    for (char& ch : expected) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(names[number], expected) << "capability " << number;
    EXPECT_EQ(capability_number(expected), number);
  }
  std::ifstream last_cap("/proc/sys/kernel/cap_last_cap");
  int kernel_last = -1;
  ASSERT_TRUE(last_cap >> kernel_last);
  EXPECT_GE(last_known_capability(), kernel_last);
}

TEST(ConfigErrors, EveryKnownCapabilityNameParses) {
  json doc = example();
  json bounding = json::array();
  for (std::string_view name : capability_names()) bounding.push_back(std::string(name));
  doc["process"]["capabilities"]["bounding"] = bounding;
  auto c = parse_config(doc.dump(), "/b");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->process->capabilities->bounding.size(), capability_names().size());
}

// Values corral cannot honour are refused, naming field and value, instead of being dropped.
TEST(ConfigErrors, HarmfulUnsupportedValuesAreRefused) {
  struct Case {
    std::string pointer;
    json value;
    std::string says;
  };
  const Case cases[] = {
      {"/process/apparmorProfile", "docker-default",
       "process.apparmorProfile: \"docker-default\" is not supported"},
      {"/process/selinuxLabel", "system_u:system_r:container_t:s0",
       "process.selinuxLabel: \"system_u:system_r:container_t:s0\" is not supported"},
      {"/process/ioPriority",
       {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 4}},
       "process.ioPriority: "},
      {"/process/scheduler", {{"policy", "SCHED_FIFO"}}, "process.scheduler: "},
      {"/linux/mountLabel", "system_u:object_r:container_file_t:s0",
       "linux.mountLabel: \"system_u:object_r:container_file_t:s0\" is not supported"},
      {"/linux/resources/hugepageLimits", json::array({{{"pageSize", "2MB"}, {"limit", 1}}}),
       "linux.resources.hugepageLimits: "},
      {"/linux/resources/blockIO", {{"weight", 10}}, "linux.resources.blockIO: {\"weight\":10}"},
      {"/linux/resources/rdma", {{"mlx5_1", {{"hcaHandles", 3}}}}, "linux.resources.rdma: "},
      {"/linux/resources/network", {{"classID", 1048577}}, "linux.resources.network: "},
      {"/linux/resources/unified", {{"memory.high", "1G"}}, "linux.resources.unified: "},
      {"/linux/resources/memory/kernel", 1024, "linux.resources.memory.kernel: 1024"},
      {"/linux/resources/memory/kernelTCP", 1024, "linux.resources.memory.kernelTCP: 1024"},
      {"/linux/resources/cpu/realtimeRuntime", 950000, "linux.resources.cpu.realtimeRuntime"},
      {"/linux/intelRdt", {{"closID", "guaranteed_group"}}, "linux.intelRdt: "},
      {"/linux/personality",
       {{"domain", "LINUX32"}},
       "linux.personality.domain: \"LINUX32\" is not supported"},
      {"/linux/personality/flags", json::array({"ADDR_NO_RANDOMIZE"}), "linux.personality.flags"},
      {"/linux/timeOffsets", {{"monotonic", {{"secs", 1}}}}, "linux.timeOffsets"},
      {"/linux/seccomp/listenerPath", "/run/notify.sock", "linux.seccomp.listenerPath"},
      {"/mounts/2/uidMappings", json::array({{{"containerID", 0}, {"hostID", 1}, {"size", 1}}}),
       "mounts[2].uidMappings"},
      {"/mounts/2/options", json::array({"rbind", "rro"}),
       "mounts[2].options: mount option \"rro\" is not supported"},
      {"/mounts/2/options", json::array({"rbind", "mode=755"}),
       "mounts[2].options: \"mode=755\" cannot apply to a bind mount"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    auto result = parse_with(c.pointer, c.value);
    expect_invalid(result, c.says);
    if (!result) {
      EXPECT_THAT(result.error().message(), HasSubstr("not"));
    }
  }
}

TEST(ConfigErrors, EmptyValuesOfUnsupportedFieldsAreAccepted) {
  json doc = example();
  doc["process"]["apparmorProfile"] = "";
  doc["linux"]["resources"]["blockIO"] = {{"weightDevice", json::array()}};
  doc["linux"]["resources"]["network"] = json::object();
  doc["linux"]["intelRdt"] = nullptr;
  doc["linux"]["personality"] = {{"domain", "LINUX"}, {"flags", json::array()}};
  auto c = parse_config(doc.dump(), "/b");
  EXPECT_TRUE(c) << c.error().message();
}

TEST(ConfigErrors, UnknownPropertiesAreIgnoredEverywhere) {
  json doc = example();
  doc["x-vendor"] = {{"a", 1}};
  doc["process"]["x-vendor"] = json::array({1, "two"});
  doc["process"]["user"]["x-vendor"] = "3";
  doc["root"]["x-vendor"] = true;
  doc["mounts"][0]["x-vendor"] = nullptr;
  doc["linux"]["x-vendor"] = 4.5;
  doc["linux"]["namespaces"][0]["x-vendor"] = "five";
  doc["linux"]["resources"]["x-vendor"] = {{"six", 6}};
  doc["linux"]["seccomp"]["syscalls"][0]["x-vendor"] = 7;
  doc["hooks"]["x-newHookKind"] = json::array({{{"path", 8}}});
  doc["process"]["commandLine"] = "cmd.exe /c dir";  // Windows-only
  auto c = parse_config(doc.dump(), "/b");
  ASSERT_TRUE(c) << c.error().message();
  auto plain = parse_config(test::kFullExampleConfig, "/b");
  ASSERT_TRUE(plain);
  EXPECT_EQ(c->hostname, plain->hostname);
  EXPECT_EQ(c->mounts.size(), plain->mounts.size());
}

TEST(ConfigErrors, OversizedConfigIsRefused) {
  std::string big(kMaxConfigSize + 1, ' ');
  expect_invalid(parse_config(big, "/b"), "more than the");
}

}  // namespace
}  // namespace corral
