#pragma once
// The parsed form of a corral command line. corral takes runc's command line so that Podman,
// containerd and CRI-O can run it in runc's place:
//
//   corral [global flags] COMMAND [command flags] ARGS...
//
// Flags follow Go's flag package, which runc uses: one or two dashes are the same
// (`-root` == `--root`), a value is given as `--flag value` or `--flag=value`, a boolean may be
// given as `--flag=false`, and short flags are not bundled (`-dt` is not `-d -t`). Global flags
// come before the command. Command flags may come after the positional arguments too, except for
// `exec` and `ps`, where everything after the container id belongs to the process / to ps(1).
// `--` ends the flags.
//
// parse_cli() only parses: it reads no file and starts nothing, so tests can check every form.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "reactor/result.hpp"

namespace corral::cli {

enum class LogFormat { Text, Json };
enum class OutputFormat { Table, Json };

inline constexpr const char* kDefaultRoot = "/run/corral";

struct GlobalOptions {
  std::string root = kDefaultRoot;  // where container state directories live
  std::string log_file;             // empty: log to stderr
  LogFormat log_format = LogFormat::Text;
  bool debug = false;
  std::string rootless = "auto";  // runc's --rootless takes true|false|auto
  std::string criu = "criu";      // accepted for runc compatibility; checkpoint is unsupported
  bool systemd_cgroup = false;    // recorded so the refusal can be logged; never honoured
};

// `corral help [COMMAND]`, `corral --help`, `corral COMMAND --help`.
struct HelpRequest {
  std::string command;  // empty: the global usage
};
struct VersionRequest {};

struct SpecOptions {
  std::string bundle;  // empty: the current directory
  bool rootless = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle;  // empty: the current directory
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  unsigned preserve_fds = 0;  // fds 3..3+N-1 are passed to the container's process
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;  // do not delete the container after it exits (foreground run)
};

struct StartOptions {
  std::string id;
};
struct StateOptions {
  std::string id;
};
struct PauseOptions {
  std::string id;
};
struct ResumeOptions {
  std::string id;
};

struct KillOptions {
  std::string id;
  int signal = SIGTERM;
  bool all = false;  // every process of the container, not only its init
};

struct DeleteOptions {
  std::string id;
  bool force = false;  // kill a running container first
};

struct ListOptions {
  OutputFormat format = OutputFormat::Table;
  bool quiet = false;  // ids only
};

struct PsOptions {
  std::string id;
  OutputFormat format = OutputFormat::Table;
  std::vector<std::string> ps_args;  // passed to ps(1); runc's default is "-ef"
};

// `--user uid[:gid]` of exec.
struct UserSpec {
  std::uint32_t uid = 0;
  std::optional<std::uint32_t> gid;
  bool operator==(const UserSpec&) const = default;
};

struct ExecOptions {
  std::string id;
  std::string process_file;  // --process: a JSON "process" object replacing args and flags
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<UserSpec> user;
  std::vector<std::uint32_t> additional_gids;
  std::vector<std::string> caps;  // added to the container's capability sets
  bool no_new_privs = false;
  unsigned preserve_fds = 0;
  std::vector<std::string> args;  // the command after the container id
};

// `update`: every value already checked and converted; unset means "leave as is".
struct UpdateOptions {
  std::string id;
  std::string resources_file;          // -r: a JSON linux.resources object, "-" for stdin
  std::optional<std::int64_t> memory;  // bytes; -1 unlimited
  std::optional<std::int64_t> memory_reservation;
  std::optional<std::int64_t> memory_swap;
  std::optional<std::uint64_t> cpu_shares;
  std::optional<std::int64_t> cpu_quota;
  std::optional<std::uint64_t> cpu_period;
  std::string cpuset_cpus;  // empty: unchanged (runc ignores an empty value too)
  std::string cpuset_mems;
  std::optional<std::int64_t> pids_limit;
};

struct EventsOptions {
  std::string id;
  bool stats = false;  // print one stats event and exit
  std::chrono::nanoseconds interval = std::chrono::seconds(5);
};

struct FeaturesOptions {};

// `checkpoint` and `restore`: recognised so that they fail with a clear message, not as
// unknown commands. Their arguments are not parsed.
struct UnsupportedCommand {
  std::string name;
};

// `init`: the container-side entry point of runc. corral starts corral-init instead, but keeps
// the command so a caller that re-executes the runtime gets a precise answer.
struct InitOptions {};

using CommandOptions =
    std::variant<HelpRequest, VersionRequest, SpecOptions, CreateOptions, RunOptions, StartOptions,
                 StateOptions, KillOptions, DeleteOptions, ListOptions, PsOptions, ExecOptions,
                 PauseOptions, ResumeOptions, UpdateOptions, EventsOptions, FeaturesOptions,
                 UnsupportedCommand, InitOptions>;

struct CliInvocation {
  GlobalOptions global;
  CommandOptions command;
};

struct ParseFailure {
  std::string message;      // one line, starting with "corral: "
  std::string command;      // the command whose usage applies; empty: the global usage
  GlobalOptions global;     // the global options parsed before the failure, for logging it
  bool usage_error = true;  // false for a well-formed request corral refuses (--systemd-cgroup)
};

// args excludes argv[0].
Result<CliInvocation, ParseFailure> parse_cli(const std::vector<std::string>& args);

// The name of the command an invocation runs ("create", "help", ...).
std::string command_name(const CommandOptions& command);

}  // namespace corral::cli
