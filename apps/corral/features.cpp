#include "apps/corral/features.hpp"
#include "runtime/spec/capabilities.hpp"

#include "apps/corral/version.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/config_names.hpp"

namespace corral::cli {
namespace {

// runtime/spec/mount_options.cpp keeps its tables private, so the names are repeated here; the
// tests check that parse_mount_options() turns each one into a flag (not filesystem data), which
// fails as soon as one of them stops being understood.
const std::vector<std::string_view> kMountOptions{
    "async",   "atime",       "bind",          "defaults",  "dev",         "diratime",
    "dirsync", "exec",        "iversion",      "lazytime",  "loud",        "mand",
    "noatime", "nodev",       "nodiratime",    "noexec",    "noiversion",  "nolazytime",
    "nomand",  "norelatime",  "nostrictatime", "nosuid",    "nosymfollow", "notmpcopyup",
    "private", "rbind",       "relatime",      "remount",   "ro",          "rprivate",
    "rshared", "rslave",      "runbindable",   "rw",        "shared",      "silent",
    "slave",   "strictatime", "suid",          "symfollow", "sync",        "unbindable",
};

nlohmann::ordered_json names(std::span<const std::string_view> list) {
  auto out = nlohmann::ordered_json::array();
  for (std::string_view name : list) out.push_back(name);
  return out;
}

}  // namespace

const std::vector<std::string_view>& supported_mount_options() {
  return kMountOptions;
}
std::span<const std::string_view> supported_capabilities() {
  return capability_names();
}
std::span<const std::string_view> supported_seccomp_architectures() {
  return known_seccomp_architectures();
}

nlohmann::ordered_json features_document() {
  using json = nlohmann::ordered_json;
  json namespaces = json::array();
  for (int i = 0; i <= static_cast<int>(NamespaceType::Time); ++i) {
    namespaces.push_back(to_string(static_cast<NamespaceType>(i)));
  }
  json actions = json::array();
  for (int i = 0; i <= static_cast<int>(SeccompAction::Notify); ++i) {
    auto action = static_cast<SeccompAction>(i);
    // The init refuses SCMP_ACT_NOTIFY: there is no seccomp agent to hand the fd to.
    if (action != SeccompAction::Notify) actions.push_back(to_string(action));
  }
  json operators = json::array();
  for (int i = 0; i <= static_cast<int>(SeccompOperator::MaskedEqual); ++i) {
    operators.push_back(to_string(static_cast<SeccompOperator>(i)));
  }
  return json{
      {"ociVersionMin", kSpecVersionMin},
      {"ociVersionMax", kSpecVersionMax},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", names(kMountOptions)},
      {"linux",
       {
           {"namespaces", namespaces},
           {"capabilities", names(capability_names())},
           {"cgroup",
            {{"v1", true},
             {"v2", true},
             {"systemd", false},
             {"systemdUser", false},
             {"rdma", false}}},
           {"seccomp",
            {{"enabled", true},
             {"actions", actions},
             {"operators", operators},
             {"archs", names(known_seccomp_architectures())},
             {"knownFlags", names(known_seccomp_flags())},
             {"supportedFlags", names(known_seccomp_flags())}}},
           {"apparmor", {{"enabled", false}}},
           {"selinux", {{"enabled", false}}},
           {"intelRdt", {{"enabled", false}}},
           {"mountExtensions", {{"idmap", {{"enabled", false}}}}},
       }},
      {"annotations",
       {{"io.github.corral.version", corral_version()},
        {"io.github.corral.commit", corral_commit()},
        {"io.github.corral.spec.version", kSpecVersionMax}}},
  };
}

}  // namespace corral::cli
