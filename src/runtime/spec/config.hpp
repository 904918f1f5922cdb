#pragma once
// corral's own model of an OCI runtime-spec (1.0-1.2) config.json. The parser
// (config_parser.hpp) fills it and the validator (validator.hpp) checks it; the init reads the
// same JSON from the init pipe and parses it with the same code, so both sides agree.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corral {

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct User {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::optional<std::uint32_t> umask;
  std::vector<std::uint32_t> additional_gids;
  std::string username;  // Windows-only in the spec; kept for completeness
};

struct Rlimit {
  int resource = 0;  // RLIMIT_* value, resolved from the spec's "RLIMIT_NOFILE" name
  std::string name;  // as written in the config, for messages
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

struct Capabilities {
  // Names as in the spec ("CAP_CHOWN"); the parser refuses names libcap does not know.
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;  // process.oomScoreAdj (deprecated place) or linux's
  std::string apparmor_profile;      // refused when set: corral has no AppArmor support
  std::string selinux_label;         // refused when set: corral has no SELinux support
};

struct Root {
  std::string path;  // absolute: the config's path resolved against the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;  // as written
  // Derived from options:
  unsigned long flags = 0;              // MS_* flags (MS_BIND, MS_RDONLY, MS_NOSUID, ...)
  unsigned long clear_flags = 0;        // flags explicitly cleared ("rw", "suid", "dev", ...)
  unsigned long propagation_flags = 0;  // MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (+MS_REC)
  std::string data;                     // the options that are not flags, comma-joined
  bool is_bind() const;
};

enum class NamespaceType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: create a new one; else join this one
};

struct IdMapping {
  std::uint32_t container_id = 0;
  std::uint32_t host_id = 0;
  std::uint32_t size = 0;
};

struct Device {
  std::string path;
  char type = 'c';  // 'c', 'b', 'u' or 'p'
  std::int64_t major = 0;
  std::int64_t minor = 0;
  std::optional<std::uint32_t> file_mode;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
};

struct DeviceRule {
  bool allow = false;
  char type = 'a';  // 'a', 'c' or 'b'
  std::optional<std::int64_t> major;  // nullopt: any ('*')
  std::optional<std::int64_t> minor;
  std::string access = "rwm";
};

struct MemoryResources {
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> reservation;
  std::optional<std::int64_t> swap;
  std::optional<std::uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
};

struct CpuResources {
  std::optional<std::uint64_t> shares;
  std::optional<std::int64_t> quota;
  std::optional<std::uint64_t> period;
  std::string cpus;
  std::string mems;
};

struct PidsResources {
  std::int64_t limit = 0;  // <= 0: unlimited
};

struct Resources {
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::vector<DeviceRule> devices;
};

enum class SeccompAction { Kill, KillProcess, KillThread, Trap, Errno, Trace, Allow, Log, Notify };
enum class SeccompOperator { NotEqual, LessThan, LessEqual, EqualTo, GreaterEqual, GreaterThan, MaskedEqual };

struct SeccompArg {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  SeccompOperator op = SeccompOperator::EqualTo;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  SeccompAction action = SeccompAction::Allow;
  std::optional<std::uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  SeccompAction default_action = SeccompAction::Allow;
  std::optional<std::uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", ...
  std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", ...
  std::vector<SeccompSyscall> syscalls;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout_seconds;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
  std::string mount_label;  // refused when set (SELinux)

  const Namespace* find_namespace(NamespaceType type) const;
};

struct Config {
  std::string oci_version;
  std::string bundle;  // absolute path of the bundle directory
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux_spec;  // the spec's "linux" object ("linux" itself is a macro in GNU C++)
};

}  // namespace corral
