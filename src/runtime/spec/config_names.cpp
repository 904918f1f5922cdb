#include "runtime/spec/config_names.hpp"

#include <sys/resource.h>

#include <array>
#include <utility>

namespace corral {
namespace {

template <class T, std::size_t N>
std::optional<T> find_value(const std::array<std::pair<std::string_view, T>, N>& table,
                            std::string_view name) {
  for (const auto& [entry_name, value] : table) {
    if (entry_name == name) return value;
  }
  return std::nullopt;
}

template <class T, std::size_t N>
std::string_view find_name(const std::array<std::pair<std::string_view, T>, N>& table, T value) {
  for (const auto& [name, entry_value] : table) {
    if (entry_value == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<std::string_view, NamespaceType>, 8> kNamespaces{{
    {"pid", NamespaceType::Pid},
    {"network", NamespaceType::Network},
    {"mount", NamespaceType::Mount},
    {"ipc", NamespaceType::Ipc},
    {"uts", NamespaceType::Uts},
    {"user", NamespaceType::User},
    {"cgroup", NamespaceType::Cgroup},
    {"time", NamespaceType::Time},
}};

constexpr std::array<std::pair<std::string_view, SeccompAction>, 9> kActions{{
    {"SCMP_ACT_KILL", SeccompAction::Kill},
    {"SCMP_ACT_KILL_PROCESS", SeccompAction::KillProcess},
    {"SCMP_ACT_KILL_THREAD", SeccompAction::KillThread},
    {"SCMP_ACT_TRAP", SeccompAction::Trap},
    {"SCMP_ACT_ERRNO", SeccompAction::Errno},
    {"SCMP_ACT_TRACE", SeccompAction::Trace},
    {"SCMP_ACT_ALLOW", SeccompAction::Allow},
    {"SCMP_ACT_LOG", SeccompAction::Log},
    {"SCMP_ACT_NOTIFY", SeccompAction::Notify},
}};

constexpr std::array<std::pair<std::string_view, SeccompOperator>, 7> kOperators{{
    {"SCMP_CMP_NE", SeccompOperator::NotEqual},
    {"SCMP_CMP_LT", SeccompOperator::LessThan},
    {"SCMP_CMP_LE", SeccompOperator::LessEqual},
    {"SCMP_CMP_EQ", SeccompOperator::EqualTo},
    {"SCMP_CMP_GE", SeccompOperator::GreaterEqual},
    {"SCMP_CMP_GT", SeccompOperator::GreaterThan},
    {"SCMP_CMP_MASKED_EQ", SeccompOperator::MaskedEqual},
}};

constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits{{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

// The architecture names of libseccomp 2.5 (scmp_arch_resolve_name without the prefix).
constexpr std::array<std::string_view, 23> kArchitectures{
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

constexpr std::array<std::string_view, 5> kSeccompFlags{
    "SECCOMP_FILTER_FLAG_TSYNC",       "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
};

}  // namespace

std::string_view to_string(NamespaceType type) {
  return find_name(kNamespaces, type);
}
std::optional<NamespaceType> parse_namespace_type(std::string_view name) {
  return find_value(kNamespaces, name);
}

std::string_view to_string(SeccompAction action) {
  return find_name(kActions, action);
}
std::optional<SeccompAction> parse_seccomp_action(std::string_view name) {
  return find_value(kActions, name);
}

std::string_view to_string(SeccompOperator op) {
  return find_name(kOperators, op);
}
std::optional<SeccompOperator> parse_seccomp_operator(std::string_view name) {
  return find_value(kOperators, name);
}

std::optional<int> parse_rlimit_name(std::string_view name) {
  return find_value(kRlimits, name);
}

bool is_known_seccomp_architecture(std::string_view name) {
  for (std::string_view known : kArchitectures) {
    if (known == name) return true;
  }
  return false;
}

bool is_known_seccomp_flag(std::string_view name) {
  for (std::string_view known : kSeccompFlags) {
    if (known == name) return true;
  }
  return false;
}

std::span<const std::string_view> known_seccomp_architectures() {
  return kArchitectures;
}
std::span<const std::string_view> known_seccomp_flags() {
  return kSeccompFlags;
}

}  // namespace corral
