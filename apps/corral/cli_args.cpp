#include "apps/corral/cli_args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <span>

#include "apps/corral/flag_parser.hpp"
#include "apps/corral/signals.hpp"
#include "apps/corral/usage.hpp"

namespace corral::cli {
namespace {

using Args = std::span<const std::string>;
using CommandResult = Result<CommandOptions, std::string>;

// ---- value helpers shared by several flags ----

std::string store_unsigned(unsigned& out, const std::string& v) {
  auto n = parse_unsigned_value(v, UINT32_MAX);
  if (!n) return n.error();
  out = static_cast<unsigned>(*n);
  return {};
}

std::string store_format(OutputFormat& out, const std::string& v) {
  if (v == "table") {
    out = OutputFormat::Table;
  } else if (v == "json") {
    out = OutputFormat::Json;
  } else {
    return fmt::format("\"{}\" is not a format (table or json)", v);
  }
  return {};
}

template <class T>
std::string store_parsed(std::optional<T>& out, ValueOr<T> parsed) {
  if (!parsed) return parsed.error();
  out = *parsed;
  return {};
}

// ---- positional arguments ----

std::string count_error(std::string_view expected, std::size_t got) {
  return fmt::format("expected {}, got {} argument{}", expected, got, got == 1 ? "" : "s");
}

Result<std::string, std::string> exactly_one_id(const std::vector<std::string>& positional) {
  if (positional.size() != 1) return fail(count_error("<container-id>", positional.size()));
  if (positional[0].empty()) return fail(std::string("the container id is empty"));
  return positional[0];
}

// ---- the flags of each command ----

std::vector<FlagDef<CreateOptions>> create_flags() {
  return {
      string_flag<CreateOptions>({"bundle", "b"}, "DIR", &CreateOptions::bundle,
                                 "the bundle directory (default: the current directory)"),
      string_flag<CreateOptions>({"console-socket"}, "PATH", &CreateOptions::console_socket,
                                 "AF_UNIX socket to send the pty master of a terminal to"),
      string_flag<CreateOptions>({"pid-file"}, "PATH", &CreateOptions::pid_file,
                                 "write the container's init pid to this file"),
      bool_flag<CreateOptions>({"no-pivot"}, &CreateOptions::no_pivot,
                               "do not use pivot_root to enter the rootfs"),
      bool_flag<CreateOptions>({"no-new-keyring"}, &CreateOptions::no_new_keyring,
                               "keep the caller's session keyring"),
      value_flag<CreateOptions>(
          {"preserve-fds"}, "N", "pass N extra descriptors (from fd 3)",
          [](CreateOptions& o, const std::string& v) { return store_unsigned(o.preserve_fds, v); }),
  };
}

std::vector<FlagDef<RunOptions>> run_flags() {
  auto flags = lift_flags(create_flags(), &RunOptions::create);
  flags.push_back(bool_flag<RunOptions>({"detach", "d"}, &RunOptions::detach,
                                        "do not wait for the container's process"));
  flags.push_back(bool_flag<RunOptions>({"keep"}, &RunOptions::keep,
                                        "keep the container after its process exits"));
  return flags;
}

std::vector<FlagDef<SpecOptions>> spec_flags() {
  return {
      string_flag<SpecOptions>({"bundle", "b"}, "DIR", &SpecOptions::bundle,
                               "where to write config.json (default: the current directory)"),
      bool_flag<SpecOptions>({"rootless"}, &SpecOptions::rootless,
                             "a spec for a container started by an unprivileged user"),
  };
}

std::vector<FlagDef<KillOptions>> kill_flags() {
  return {bool_flag<KillOptions>({"all", "a"}, &KillOptions::all,
                                 "signal every process of the container")};
}

std::vector<FlagDef<DeleteOptions>> delete_flags() {
  return {bool_flag<DeleteOptions>({"force", "f"}, &DeleteOptions::force,
                                   "kill the container first if it is running")};
}

std::vector<FlagDef<ListOptions>> list_flags() {
  return {
      value_flag<ListOptions>(
          {"format", "f"}, "table|json", "output format (default: table)",
          [](ListOptions& o, const std::string& v) { return store_format(o.format, v); }),
      bool_flag<ListOptions>({"quiet", "q"}, &ListOptions::quiet, "print the ids only"),
  };
}

std::vector<FlagDef<PsOptions>> ps_flags() {
  return {value_flag<PsOptions>(
      {"format", "f"}, "table|json", "output format (default: table)",
      [](PsOptions& o, const std::string& v) { return store_format(o.format, v); })};
}

std::vector<FlagDef<ExecOptions>> exec_flags() {
  using O = ExecOptions;
  return {
      string_flag<O>({"process", "p"}, "FILE", &O::process_file,
                     "a JSON process description (as config.json's \"process\")"),
      bool_flag<O>({"tty", "t"}, &O::tty, "give the process a terminal"),
      string_flag<O>({"console-socket"}, "PATH", &O::console_socket,
                     "AF_UNIX socket to send the pty master to"),
      bool_flag<O>({"detach", "d"}, &O::detach, "do not wait for the process"),
      string_flag<O>({"pid-file"}, "PATH", &O::pid_file, "write the process's pid to this file"),
      value_flag<O>({"env", "e"}, "NAME=VALUE", "add an environment variable (repeatable)",
                    [](O& o, const std::string& v) {
                      o.env.push_back(v);
                      return std::string();
                    }),
      string_flag<O>({"cwd"}, "DIR", &O::cwd, "the working directory in the container"),
      value_flag<O>(
          {"user", "u"}, "UID[:GID]", "run as this user",
          [](O& o, const std::string& v) { return store_parsed(o.user, parse_user_spec(v)); }),
      value_flag<O>({"additional-gids", "g"}, "GID", "add a supplementary group (repeatable)",
                    [](O& o, const std::string& v) {
                      auto gid = parse_unsigned_value(v, UINT32_MAX);
                      if (!gid) return gid.error();
                      o.additional_gids.push_back(static_cast<std::uint32_t>(*gid));
                      return std::string();
                    }),
      value_flag<O>({"cap", "c"}, "CAP", "add a capability (repeatable)",
                    [](O& o, const std::string& v) {
                      o.caps.push_back(v);
                      return std::string();
                    }),
      bool_flag<O>({"no-new-privs"}, &O::no_new_privs, "set no_new_privs for the process"),
      value_flag<O>({"preserve-fds"}, "N", "pass N extra descriptors (from fd 3)",
                    [](O& o, const std::string& v) { return store_unsigned(o.preserve_fds, v); }),
  };
}

// runc's update flags that set limits corral refuses in config.json too (blkio, real-time CPU,
// kernel memory, Intel RDT): recognised, so the answer is "not supported", not "unknown flag".
FlagDef<UpdateOptions> refused_update_flag(std::string_view name, std::string_view why) {
  return {{{name}, "VALUE", why}, [name, why](UpdateOptions&, const std::string&) {
            return fmt::format("--{} is not supported: {}", name, why);
          }};
}

std::vector<FlagDef<UpdateOptions>> update_flags() {
  using O = UpdateOptions;
  auto memory = [](std::optional<std::int64_t> O::*member) {
    return [member](O& o, const std::string& v) {
      return store_parsed(o.*member, parse_memory_size(v));
    };
  };
  return {
      string_flag<O>({"resources", "r"}, "FILE", &O::resources_file,
                     "a JSON linux.resources object (\"-\": stdin)"),
      value_flag<O>({"memory"}, "BYTES", "memory limit (k, m, g suffixes; -1: unlimited)",
                    memory(&O::memory)),
      value_flag<O>({"memory-reservation"}, "BYTES", "memory soft limit",
                    memory(&O::memory_reservation)),
      value_flag<O>({"memory-swap"}, "BYTES", "memory plus swap limit (-1: unlimited)",
                    memory(&O::memory_swap)),
      // runc spells it --cpu-share; --cpu-shares is accepted too, as docker spells it.
      value_flag<O>({"cpu-share", "cpu-shares"}, "N", "CPU shares (relative weight)",
                    [](O& o, const std::string& v) {
                      return store_parsed(o.cpu_shares, parse_unsigned_value(v));
                    }),
      value_flag<O>({"cpu-quota"}, "USEC", "CPU time allowed per period",
                    [](O& o, const std::string& v) {
                      return store_parsed(o.cpu_quota, parse_signed_value(v));
                    }),
      value_flag<O>({"cpu-period"}, "USEC", "CPU CFS period",
                    [](O& o, const std::string& v) {
                      return store_parsed(o.cpu_period, parse_unsigned_value(v));
                    }),
      value_flag<O>({"cpuset-cpus"}, "LIST", "CPUs the container may use (\"0-3,7\")",
                    [](O& o, const std::string& v) {
                      o.cpuset_cpus = v;
                      return std::string();
                    }),
      value_flag<O>({"cpuset-mems"}, "LIST", "memory nodes the container may use",
                    [](O& o, const std::string& v) {
                      o.cpuset_mems = v;
                      return std::string();
                    }),
      value_flag<O>({"pids-limit"}, "N", "maximum number of processes (<= 0: unlimited)",
                    [](O& o, const std::string& v) {
                      return store_parsed(o.pids_limit, parse_signed_value(v));
                    }),
      refused_update_flag("blkio-weight", "corral does not manage block I/O"),
      refused_update_flag("cpu-rt-period", "corral does not set real-time CPU limits"),
      refused_update_flag("cpu-rt-runtime", "corral does not set real-time CPU limits"),
      refused_update_flag("kernel-memory", "kernel memory limits are deprecated by the kernel"),
      refused_update_flag("kernel-memory-tcp", "kernel memory limits are deprecated"),
      refused_update_flag("l3-cache-schema", "corral has no Intel RDT support"),
      refused_update_flag("mem-bw-schema", "corral has no Intel RDT support"),
  };
}

std::vector<FlagDef<EventsOptions>> events_flags() {
  return {
      bool_flag<EventsOptions>({"stats"}, &EventsOptions::stats,
                               "print the container's statistics once and exit"),
      value_flag<EventsOptions>({"interval"}, "DURATION", "stats interval (default: 5s)",
                                [](EventsOptions& o, const std::string& v) {
                                  auto d = parse_go_duration(v);
                                  if (!d) return d.error();
                                  if (d->count() <= 0) {
                                    return fmt::format("{} is not a positive duration", v);
                                  }
                                  o.interval = *d;
                                  return std::string();
                                }),
  };
}

template <class Options>
std::vector<FlagInfo> infos(const std::vector<FlagDef<Options>>& defs) {
  return {defs.begin(), defs.end()};
}

// ---- the commands ----

struct CommandEntry {
  std::string_view name;
  std::string_view arguments;
  std::string_view summary;
  // Parses the command's flags and arguments; sets help when -h/--help was given.
  std::function<CommandResult(Args, bool& help)> parse;
  std::function<std::vector<FlagInfo>()> flags;
};

// Parses flags, then hands the positional arguments to finish().
template <class Options>
CommandResult parse_with(const std::vector<FlagDef<Options>>& flags, Args args, ArgOrder order,
                         bool& help,
                         std::function<std::string(Options&, std::vector<std::string>&)> finish) {
  Options options;
  auto scanned = scan_flags(flags, args, order, options);
  if (!scanned) return fail(std::move(scanned).error());
  if (scanned->help) {
    help = true;
    return CommandOptions(HelpRequest{});
  }
  if (std::string problem = finish(options, scanned->positional); !problem.empty()) {
    return fail(std::move(problem));
  }
  return CommandOptions(std::move(options));
}

// A command whose only argument is the container id.
template <class Options>
CommandEntry id_command(std::string_view name, std::string_view summary,
                        std::vector<FlagDef<Options>> (*flags)()) {
  return {name, "<container-id>", summary,
          [flags](Args args, bool& help) {
            return parse_with<Options>(flags(), args, ArgOrder::Interleaved, help,
                                       [](Options& o, std::vector<std::string>& positional) {
                                         auto id = exactly_one_id(positional);
                                         if (!id) return id.error();
                                         if constexpr (std::is_same_v<Options, RunOptions>) {
                                           o.create.id = *id;
                                         } else {
                                           o.id = *id;
                                         }
                                         return std::string();
                                       });
          },
          [flags] { return infos(flags()); }};
}

template <class Options>
std::vector<FlagDef<Options>> no_flags() {
  return {};
}

template <class Options>
CommandEntry no_argument_command(std::string_view name, std::string_view summary,
                                 std::vector<FlagDef<Options>> (*flags)()) {
  return {name, "", summary,
          [flags](Args args, bool& help) {
            return parse_with<Options>(flags(), args, ArgOrder::Interleaved, help,
                                       [](Options&, std::vector<std::string>& positional) {
                                         if (positional.empty()) return std::string();
                                         return count_error("no arguments", positional.size());
                                       });
          },
          [flags] { return infos(flags()); }};
}

CommandEntry unsupported_command(std::string_view name, std::string_view summary) {
  return {name, "<container-id>", summary,
          [name](Args, bool&) { return CommandResult(UnsupportedCommand{std::string(name)}); },
          [] { return std::vector<FlagInfo>{}; }};
}

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = [] {
    std::vector<CommandEntry> t;
    t.push_back(
        id_command<CreateOptions>("create", "create a container from a bundle", &create_flags));
    t.push_back(id_command<RunOptions>("run", "create and start a container", &run_flags));
    t.push_back(id_command<StartOptions>("start", "run the user process of a created container",
                                         &no_flags<StartOptions>));
    t.push_back(id_command<StateOptions>("state", "print the state of a container as JSON",
                                         &no_flags<StateOptions>));
    t.push_back({"kill", "<container-id> [signal]",
                 "send a signal (default: SIGTERM) to the container's init process",
                 [](Args args, bool& help) {
                   return parse_with<KillOptions>(
                       kill_flags(), args, ArgOrder::Interleaved, help,
                       [](KillOptions& o, std::vector<std::string>& positional) {
                         if (positional.empty() || positional.size() > 2) {
                           return count_error("<container-id> [signal]", positional.size());
                         }
                         o.id = positional[0];
                         if (positional.size() == 2) {
                           auto signal = parse_signal(positional[1]);
                           if (!signal) return signal.error();
                           o.signal = *signal;
                         }
                         return std::string();
                       });
                 },
                 [] { return infos(kill_flags()); }});
    t.push_back(
        id_command<DeleteOptions>("delete", "delete a container and its state", &delete_flags));
    t.push_back(
        no_argument_command<ListOptions>("list", "list the containers under --root", &list_flags));
    t.push_back({"ps", "<container-id> [ps options]", "list the processes of a container",
                 [](Args args, bool& help) {
                   return parse_with<PsOptions>(
                       ps_flags(), args, ArgOrder::StopAtFirstPositional, help,
                       [](PsOptions& o, std::vector<std::string>& positional) {
                         if (positional.empty()) return count_error("<container-id>", 0);
                         o.id = positional[0];
                         auto first = positional.begin() + 1;
                         if (first != positional.end() && *first == "--") ++first;
                         o.ps_args.assign(first, positional.end());
                         return std::string();
                       });
                 },
                 [] { return infos(ps_flags()); }});
    t.push_back({"exec", "<container-id> <command> [args...]",
                 "run a new process in a running container",
                 [](Args args, bool& help) {
                   return parse_with<ExecOptions>(
                       exec_flags(), args, ArgOrder::StopAtFirstPositional, help,
                       [](ExecOptions& o, std::vector<std::string>& positional) {
                         if (positional.empty()) {
                           return count_error("<container-id> <command>", 0);
                         }
                         o.id = positional[0];
                         auto first = positional.begin() + 1;
                         if (first != positional.end() && *first == "--") ++first;
                         o.args.assign(first, positional.end());
                         if (o.args.empty() && o.process_file.empty()) {
                           return std::string("a command to run, or --process FILE, is required");
                         }
                         return std::string();
                       });
                 },
                 [] { return infos(exec_flags()); }});
    t.push_back(id_command<PauseOptions>("pause", "freeze every process of a container",
                                         &no_flags<PauseOptions>));
    t.push_back(
        id_command<ResumeOptions>("resume", "thaw a paused container", &no_flags<ResumeOptions>));
    t.push_back(id_command<UpdateOptions>("update", "change the resource limits of a container",
                                          &update_flags));
    t.push_back(id_command<EventsOptions>("events", "print a container's events and statistics",
                                          &events_flags));
    t.push_back({"spec", "", "write a default config.json",
                 [](Args args, bool& help) {
                   return parse_with<SpecOptions>(
                       spec_flags(), args, ArgOrder::Interleaved, help,
                       [](SpecOptions&, std::vector<std::string>& positional) {
                         if (positional.empty()) return std::string();
                         return count_error("no arguments", positional.size());
                       });
                 },
                 [] { return infos(spec_flags()); }});
    t.push_back(no_argument_command<FeaturesOptions>(
        "features", "print what this runtime supports (OCI features JSON)",
        &no_flags<FeaturesOptions>));
    t.push_back(unsupported_command("checkpoint", "not supported by corral"));
    t.push_back(unsupported_command("restore", "not supported by corral"));
    t.push_back(no_argument_command<InitOptions>("init", "internal: the container's init",
                                                 &no_flags<InitOptions>));
    return t;
  }();
  return table;
}

const CommandEntry* find_command(std::string_view name) {
  for (const CommandEntry& entry : command_table()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// ---- global flags ----

struct GlobalScan {
  GlobalOptions global;
  bool version = false;
};

std::vector<FlagDef<GlobalScan>> global_flags() {
  using O = GlobalScan;
  return {
      value_flag<O>({"root"}, "DIR", "where container state is kept (default: /run/corral)",
                    [](O& o, const std::string& v) {
                      if (v.empty()) return std::string("the root directory is empty");
                      o.global.root = v;
                      return std::string();
                    }),
      value_flag<O>({"log"}, "FILE", "write log entries to FILE (default: stderr)",
                    [](O& o, const std::string& v) {
                      o.global.log_file = v;
                      return std::string();
                    }),
      value_flag<O>({"log-format"}, "text|json", "log entry format (default: text)",
                    [](O& o, const std::string& v) {
                      if (v == "text") {
                        o.global.log_format = LogFormat::Text;
                      } else if (v == "json") {
                        o.global.log_format = LogFormat::Json;
                      } else {
                        return fmt::format("\"{}\" is not a log format (text or json)", v);
                      }
                      return std::string();
                    }),
      value_flag<O>({"debug"}, "", "log debug entries",
                    [](O& o, const std::string& v) {
                      o.global.debug = v == "true";
                      return std::string();
                    }),
      value_flag<O>({"systemd-cgroup"}, "", "not supported: corral manages cgroupfs directly",
                    [](O& o, const std::string& v) {
                      o.global.systemd_cgroup = v == "true";
                      return std::string();
                    }),
      value_flag<O>({"rootless"}, "true|false|auto",
                    "ignore cgroup permission errors (default: auto)",
                    [](O& o, const std::string& v) {
                      if (v != "true" && v != "false" && v != "auto") {
                        return fmt::format("\"{}\" is not true, false or auto", v);
                      }
                      o.global.rootless = v;
                      return std::string();
                    }),
      value_flag<O>({"criu"}, "PATH", "accepted for runc compatibility; unused",
                    [](O& o, const std::string& v) {
                      o.global.criu = v;
                      return std::string();
                    }),
      value_flag<O>({"version", "v"}, "", "print the version",
                    [](O& o, const std::string& v) {
                      o.version = v == "true";
                      return std::string();
                    }),
  };
}

ParseFailure failure(std::string message, std::string command, const GlobalOptions& global) {
  return ParseFailure{"corral: " + std::move(message), std::move(command), global};
}

}  // namespace

Result<CliInvocation, ParseFailure> parse_cli(const std::vector<std::string>& args) {
  GlobalScan scan;
  auto globals = scan_flags(global_flags(), Args(args), ArgOrder::StopAtFirstPositional, scan);
  if (!globals) return fail(failure(globals.error(), "", scan.global));

  CliInvocation invocation{scan.global, HelpRequest{}};
  const std::vector<std::string>& rest = globals->positional;
  // The refusal comes after every global flag is read, so that --log is known and it is logged.
  if (scan.global.systemd_cgroup) {
    ParseFailure refusal = failure(
        "--systemd-cgroup: systemd cgroup driver is not supported; use cgroupfs", "", scan.global);
    refusal.usage_error = false;
    return fail(std::move(refusal));
  }
  if (globals->help) return invocation;
  if (scan.version) {
    invocation.command = VersionRequest{};
    return invocation;
  }
  if (rest.empty()) return invocation;  // no command: the global usage, as runc does

  const std::string& name = rest.front();
  Args command_args = Args(rest).subspan(1);
  if (name == "help" || name == "h") {
    if (command_args.size() > 1) {
      return fail(failure(count_error("[command]", command_args.size()), "help", scan.global));
    }
    if (!command_args.empty()) {
      if (find_command(command_args[0]) == nullptr) {
        return fail(failure(fmt::format("no help for unknown command \"{}\"", command_args[0]), "",
                            scan.global));
      }
      invocation.command = HelpRequest{command_args[0]};
    }
    return invocation;
  }
  const CommandEntry* entry = find_command(name);
  if (entry == nullptr) {
    return fail(failure(fmt::format("unknown command \"{}\"", name), "", scan.global));
  }
  bool help = false;
  auto parsed = entry->parse(command_args, help);
  if (!parsed) {
    return fail(
        failure(fmt::format("{}: {}", name, parsed.error()), std::string(name), scan.global));
  }
  invocation.command = help ? CommandOptions(HelpRequest{std::string(name)}) : std::move(*parsed);
  return invocation;
}

std::string command_name(const CommandOptions& command) {
  return std::visit(
      [](const auto& options) -> std::string {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, HelpRequest>) return "help";
        if constexpr (std::is_same_v<T, VersionRequest>) return "version";
        if constexpr (std::is_same_v<T, SpecOptions>) return "spec";
        if constexpr (std::is_same_v<T, CreateOptions>) return "create";
        if constexpr (std::is_same_v<T, RunOptions>) return "run";
        if constexpr (std::is_same_v<T, StartOptions>) return "start";
        if constexpr (std::is_same_v<T, StateOptions>) return "state";
        if constexpr (std::is_same_v<T, KillOptions>) return "kill";
        if constexpr (std::is_same_v<T, DeleteOptions>) return "delete";
        if constexpr (std::is_same_v<T, ListOptions>) return "list";
        if constexpr (std::is_same_v<T, PsOptions>) return "ps";
        if constexpr (std::is_same_v<T, ExecOptions>) return "exec";
        if constexpr (std::is_same_v<T, PauseOptions>) return "pause";
        if constexpr (std::is_same_v<T, ResumeOptions>) return "resume";
        if constexpr (std::is_same_v<T, UpdateOptions>) return "update";
        if constexpr (std::is_same_v<T, EventsOptions>) return "events";
        if constexpr (std::is_same_v<T, FeaturesOptions>) return "features";
        if constexpr (std::is_same_v<T, UnsupportedCommand>) return options.name;
        if constexpr (std::is_same_v<T, InitOptions>) return "init";
      },
      command);
}

// ---- usage ----

namespace {

std::string flag_lines(const std::vector<FlagInfo>& flags) {
  std::string out;
  for (const FlagInfo& flag : flags) {
    std::string names;
    for (std::string_view alias : flag.names) {
      if (!names.empty()) names += ", ";
      names += fmt::format("{}{}", alias.size() == 1 ? "-" : "--", alias);
    }
    if (!flag.value_name.empty()) names += fmt::format(" {}", flag.value_name);
    out += fmt::format("   {:<34} {}\n", names, flag.help);
  }
  return out;
}

}  // namespace

std::string usage_text(std::string_view command) {
  if (command.empty()) {
    std::string out =
        "corral - a container runtime with runc's command line\n\n"
        "USAGE:\n   corral [global options] command [command options] [arguments...]\n\n"
        "COMMANDS:\n";
    for (const CommandEntry& entry : command_table()) {
      out += fmt::format("   {:<12} {}\n", entry.name, entry.summary);
    }
    out += fmt::format("   {:<12} {}\n", "help, h", "show the usage of corral or of a command");
    out += "\nGLOBAL OPTIONS:\n";
    out += flag_lines(infos(global_flags()));
    out += fmt::format("   {:<34} {}\n", "--help, -h", "show this usage");
    return out;
  }
  const CommandEntry* entry = find_command(command);
  if (entry == nullptr) return usage_text("");
  std::string out = fmt::format("corral {} - {}\n\nUSAGE:\n   corral {} [command options] {}\n",
                                entry->name, entry->summary, entry->name, entry->arguments);
  std::vector<FlagInfo> flags = entry->flags();
  if (!flags.empty()) out += "\nOPTIONS:\n" + flag_lines(flags);
  return out;
}

}  // namespace corral::cli
