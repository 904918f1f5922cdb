#include "apps/corral/features.hpp"

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

// The kernel's capabilities 0..40 (runtime/spec/capabilities.cpp has no name-by-number lookup);
// the tests check each against capability_number() and the count against last_known_capability().
const std::vector<std::string_view> kCapabilities{
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// libseccomp 2.5's architectures, as config_names.cpp accepts them (checked by the tests).
const std::vector<std::string_view> kSeccompArchitectures{
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

const std::vector<std::string_view> kSeccompFlags{
    "SECCOMP_FILTER_FLAG_TSYNC",       "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
};

nlohmann::ordered_json names(const std::vector<std::string_view>& list) {
  auto out = nlohmann::ordered_json::array();
  for (std::string_view name : list) out.push_back(name);
  return out;
}

}  // namespace

const std::vector<std::string_view>& supported_mount_options() {
  return kMountOptions;
}
const std::vector<std::string_view>& supported_capabilities() {
  return kCapabilities;
}
const std::vector<std::string_view>& supported_seccomp_architectures() {
  return kSeccompArchitectures;
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
           {"capabilities", names(kCapabilities)},
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
             {"archs", names(kSeccompArchitectures)},
             {"knownFlags", names(kSeccompFlags)},
             {"supportedFlags", names(kSeccompFlags)}}},
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
