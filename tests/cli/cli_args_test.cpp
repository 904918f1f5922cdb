#include "apps/corral/cli_args.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

namespace corral::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CliInvocation parse_ok(std::vector<std::string> args) {
  auto parsed = parse_cli(args);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : CliInvocation{};
}

template <class T>
T command_of(std::vector<std::string> args) {
  CliInvocation invocation = parse_ok(std::move(args));
  const T* command = std::get_if<T>(&invocation.command);
  EXPECT_NE(command, nullptr) << "parsed as " << command_name(invocation.command);
  return command ? *command : T{};
}

ParseFailure parse_error(std::vector<std::string> args) {
  auto parsed = parse_cli(args);
  EXPECT_FALSE(parsed) << "parsed as " << command_name(parsed->command);
  return parsed ? ParseFailure{} : parsed.error();
}

TEST(CliGlobal, DefaultsWithoutFlags) {
  CliInvocation invocation = parse_ok({"list"});
  EXPECT_EQ(invocation.global.root, "/run/corral");
  EXPECT_EQ(invocation.global.log_file, "");
  EXPECT_EQ(invocation.global.log_format, LogFormat::Text);
  EXPECT_FALSE(invocation.global.debug);
  EXPECT_EQ(invocation.global.rootless, "auto");
  EXPECT_TRUE(std::holds_alternative<ListOptions>(invocation.command));
}

TEST(CliGlobal, EveryFlagInEveryForm) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--root", "/r", "--log", "/l", "--log-format", "json", "--debug", "--rootless", "true",
            "--criu", "/c", "list"},
           {"--root=/r", "--log=/l", "--log-format=json", "--debug=true", "--rootless=true",
            "--criu=/c", "list"},
           {"-root", "/r", "-log=/l", "-log-format", "json", "-debug", "-rootless=true", "-criu",
            "/c", "list"},
       }) {
    CliInvocation invocation = parse_ok(args);
    EXPECT_EQ(invocation.global.root, "/r");
    EXPECT_EQ(invocation.global.log_file, "/l");
    EXPECT_EQ(invocation.global.log_format, LogFormat::Json);
    EXPECT_TRUE(invocation.global.debug);
    EXPECT_EQ(invocation.global.rootless, "true");
    EXPECT_EQ(invocation.global.criu, "/c");
  }
}

TEST(CliGlobal, BooleanFlagTakesAnExplicitFalse) {
  EXPECT_FALSE(parse_ok({"--debug=false", "list"}).global.debug);
  EXPECT_THAT(parse_error({"--debug=maybe", "list"}).message, HasSubstr("not a boolean"));
}

TEST(CliGlobal, VersionAndHelp) {
  for (const char* flag : {"--version", "-v", "-version"}) {
    EXPECT_TRUE(std::holds_alternative<VersionRequest>(parse_ok({flag}).command)) << flag;
  }
  for (const char* flag : {"--help", "-h"}) {
    auto help = command_of<HelpRequest>({flag});
    EXPECT_EQ(help.command, "") << flag;
  }
  EXPECT_EQ(command_of<HelpRequest>({}).command, "");
  EXPECT_EQ(command_of<HelpRequest>({"help", "kill"}).command, "kill");
  EXPECT_EQ(command_of<HelpRequest>({"kill", "--help"}).command, "kill");
  EXPECT_EQ(command_of<HelpRequest>({"exec", "-h"}).command, "exec");
  EXPECT_THAT(parse_error({"help", "nope"}).message, HasSubstr("\"nope\""));
}

TEST(CliGlobal, SystemdCgroupIsRefusedAfterTheLogIsKnown) {
  ParseFailure failure = parse_error({"--systemd-cgroup", "--log", "/l", "create", "c"});
  EXPECT_EQ(failure.message,
            "corral: --systemd-cgroup: systemd cgroup driver is not supported; use cgroupfs");
  EXPECT_EQ(failure.global.log_file, "/l");
  EXPECT_FALSE(failure.usage_error);
}

TEST(CliGlobal, Errors) {
  ParseFailure unknown_flag = parse_error({"--nope", "list"});
  EXPECT_EQ(unknown_flag.message, "corral: flag provided but not defined: --nope");
  EXPECT_TRUE(unknown_flag.usage_error);
  EXPECT_THAT(parse_error({"--root"}).message, HasSubstr("flag needs an argument: --root"));
  EXPECT_THAT(parse_error({"--log-format", "xml", "list"}).message,
              HasSubstr("\"xml\" is not a log format"));
  EXPECT_THAT(parse_error({"--rootless", "yes", "list"}).message, HasSubstr("true, false or auto"));
  EXPECT_THAT(parse_error({"---root", "/x", "list"}).message, HasSubstr("bad flag syntax"));
  ParseFailure unknown_command = parse_error({"--log", "/l", "frobnicate"});
  EXPECT_EQ(unknown_command.message, "corral: unknown command \"frobnicate\"");
  EXPECT_EQ(unknown_command.global.log_file, "/l");
}

TEST(CliGlobal, GlobalFlagsAfterTheCommandAreTheCommandsToJudge) {
  // As in runc, --root after the command is not a flag of `list`.
  EXPECT_THAT(parse_error({"list", "--root", "/r"}).message,
              HasSubstr("list: flag provided but not defined: --root"));
}

TEST(CliCreate, AllFlags) {
  auto create = command_of<CreateOptions>({"create", "--bundle", "/b", "--pid-file", "/p",
                                           "--console-socket", "/s", "--no-pivot",
                                           "--no-new-keyring", "--preserve-fds", "2", "c1"});
  EXPECT_EQ(create.id, "c1");
  EXPECT_EQ(create.bundle, "/b");
  EXPECT_EQ(create.pid_file, "/p");
  EXPECT_EQ(create.console_socket, "/s");
  EXPECT_TRUE(create.no_pivot);
  EXPECT_TRUE(create.no_new_keyring);
  EXPECT_EQ(create.preserve_fds, 2u);
}

TEST(CliCreate, ShortFlagAndFlagsAfterTheId) {
  auto create = command_of<CreateOptions>({"create", "c1", "-b", "/b", "--pid-file=/p"});
  EXPECT_EQ(create.id, "c1");
  EXPECT_EQ(create.bundle, "/b");
  EXPECT_EQ(create.pid_file, "/p");
  EXPECT_FALSE(create.no_pivot);
}

TEST(CliCreate, Errors) {
  EXPECT_EQ(parse_error({"create"}).message,
            "corral: create: expected <container-id>, got 0 arguments");
  EXPECT_THAT(parse_error({"create", "a", "b"}).message, HasSubstr("got 2 arguments"));
  ParseFailure bad_fds = parse_error({"create", "--preserve-fds", "x", "c"});
  EXPECT_EQ(bad_fds.message, "corral: create: --preserve-fds: \"x\" is not an unsigned integer");
  EXPECT_EQ(bad_fds.command, "create");
  EXPECT_THAT(parse_error({"create", "--detach", "c"}).message,
              HasSubstr("flag provided but not defined: --detach"));
  EXPECT_THAT(parse_error({"create", "c", "--bundle"}).message,
              HasSubstr("flag needs an argument: --bundle"));
}

TEST(CliRun, CreateFlagsPlusDetachAndKeep) {
  auto run = command_of<RunOptions>({"run", "-d", "--keep", "-b", "/b", "--pid-file", "/p", "c"});
  EXPECT_EQ(run.create.id, "c");
  EXPECT_EQ(run.create.bundle, "/b");
  EXPECT_EQ(run.create.pid_file, "/p");
  EXPECT_TRUE(run.detach);
  EXPECT_TRUE(run.keep);
  EXPECT_FALSE(command_of<RunOptions>({"run", "c"}).detach);
}

TEST(CliIdCommands, TakeExactlyOneId) {
  EXPECT_EQ(command_of<StartOptions>({"start", "a"}).id, "a");
  EXPECT_EQ(command_of<StateOptions>({"state", "a"}).id, "a");
  EXPECT_EQ(command_of<PauseOptions>({"pause", "a"}).id, "a");
  EXPECT_EQ(command_of<ResumeOptions>({"resume", "a"}).id, "a");
  for (const char* name : {"start", "state", "pause", "resume", "delete", "events", "update"}) {
    EXPECT_THAT(parse_error({name}).message, HasSubstr("expected <container-id>")) << name;
    EXPECT_THAT(parse_error({name, "a", "b"}).message, HasSubstr("got 2 arguments")) << name;
  }
  EXPECT_THAT(parse_error({"start", ""}).message, HasSubstr("container id is empty"));
}

TEST(CliKill, SignalAndAll) {
  auto plain = command_of<KillOptions>({"kill", "a"});
  EXPECT_EQ(plain.signal, SIGTERM);
  EXPECT_FALSE(plain.all);
  auto named = command_of<KillOptions>({"kill", "--all", "a", "KILL"});
  EXPECT_EQ(named.signal, SIGKILL);
  EXPECT_TRUE(named.all);
  EXPECT_EQ(command_of<KillOptions>({"kill", "a", "9", "-a"}).signal, SIGKILL);
  EXPECT_TRUE(command_of<KillOptions>({"kill", "a", "9", "-a"}).all);
  EXPECT_EQ(parse_error({"kill", "a", "FOO"}).message, "corral: kill: unknown signal \"FOO\"");
  EXPECT_THAT(parse_error({"kill"}).message, HasSubstr("expected <container-id> [signal]"));
  EXPECT_THAT(parse_error({"kill", "a", "b", "c"}).message, HasSubstr("got 3 arguments"));
}

TEST(CliDelete, Force) {
  EXPECT_TRUE(command_of<DeleteOptions>({"delete", "-f", "a"}).force);
  EXPECT_TRUE(command_of<DeleteOptions>({"delete", "a", "--force"}).force);
  EXPECT_FALSE(command_of<DeleteOptions>({"delete", "a"}).force);
}

TEST(CliList, FormatAndQuiet) {
  auto list = command_of<ListOptions>({"list"});
  EXPECT_EQ(list.format, OutputFormat::Table);
  EXPECT_FALSE(list.quiet);
  EXPECT_EQ(command_of<ListOptions>({"list", "-f", "json"}).format, OutputFormat::Json);
  EXPECT_EQ(command_of<ListOptions>({"list", "--format=json"}).format, OutputFormat::Json);
  EXPECT_TRUE(command_of<ListOptions>({"list", "-q"}).quiet);
  EXPECT_THAT(parse_error({"list", "-f", "yaml"}).message, HasSubstr("\"yaml\" is not a format"));
  EXPECT_THAT(parse_error({"list", "extra"}).message, HasSubstr("expected no arguments"));
}

TEST(CliPs, ArgumentsAfterTheIdGoToPs) {
  auto ps = command_of<PsOptions>({"ps", "-f", "json", "c", "-e", "-o", "pid"});
  EXPECT_EQ(ps.id, "c");
  EXPECT_EQ(ps.format, OutputFormat::Json);
  EXPECT_THAT(ps.ps_args, ElementsAre("-e", "-o", "pid"));
  EXPECT_THAT(command_of<PsOptions>({"ps", "c", "--", "-ef"}).ps_args, ElementsAre("-ef"));
  EXPECT_THAT(command_of<PsOptions>({"ps", "c"}).ps_args, IsEmpty());
}

TEST(CliExec, AllFlags) {
  auto exec = command_of<ExecOptions>({"exec",
                                       "--tty",
                                       "--console-socket",
                                       "/s",
                                       "-d",
                                       "--pid-file",
                                       "/p",
                                       "-e",
                                       "A=1",
                                       "--env",
                                       "B=2",
                                       "--cwd",
                                       "/w",
                                       "-u",
                                       "1000:100",
                                       "-g",
                                       "10",
                                       "--additional-gids",
                                       "11",
                                       "-c",
                                       "CAP_KILL",
                                       "--cap=CAP_CHOWN",
                                       "--no-new-privs",
                                       "--preserve-fds",
                                       "1",
                                       "ctr",
                                       "sh",
                                       "-c",
                                       "echo hi"});
  EXPECT_EQ(exec.id, "ctr");
  EXPECT_TRUE(exec.tty);
  EXPECT_EQ(exec.console_socket, "/s");
  EXPECT_TRUE(exec.detach);
  EXPECT_EQ(exec.pid_file, "/p");
  EXPECT_THAT(exec.env, ElementsAre("A=1", "B=2"));
  EXPECT_EQ(exec.cwd, "/w");
  ASSERT_TRUE(exec.user);
  EXPECT_EQ(*exec.user, (UserSpec{1000, 100}));
  EXPECT_THAT(exec.additional_gids, ElementsAre(10u, 11u));
  EXPECT_THAT(exec.caps, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  EXPECT_TRUE(exec.no_new_privs);
  EXPECT_EQ(exec.preserve_fds, 1u);
  // Flags of the process stay the process's.
  EXPECT_THAT(exec.args, ElementsAre("sh", "-c", "echo hi"));
}

TEST(CliExec, ProcessFileInsteadOfArgs) {
  auto exec = command_of<ExecOptions>({"exec", "-p", "/proc.json", "ctr"});
  EXPECT_EQ(exec.process_file, "/proc.json");
  EXPECT_THAT(exec.args, IsEmpty());
  EXPECT_THAT(command_of<ExecOptions>({"exec", "ctr", "--", "ls", "-l"}).args,
              ElementsAre("ls", "-l"));
}

TEST(CliExec, Errors) {
  EXPECT_THAT(parse_error({"exec", "ctr"}).message,
              HasSubstr("a command to run, or --process FILE, is required"));
  EXPECT_THAT(parse_error({"exec"}).message, HasSubstr("expected <container-id> <command>"));
  EXPECT_THAT(parse_error({"exec", "-u", "root", "ctr", "sh"}).message,
              HasSubstr("exec: -u: user \"root\""));
  EXPECT_THAT(parse_error({"exec", "-g", "-1", "ctr", "sh"}).message,
              HasSubstr("not an unsigned integer"));
}

TEST(CliUpdate, EveryFlagConverted) {
  auto update = command_of<UpdateOptions>({"update",    "-r",
                                           "/res.json", "--memory",
                                           "512m",      "--memory-reservation",
                                           "256M",      "--memory-swap",
                                           "-1",        "--cpu-share",
                                           "512",       "--cpu-quota",
                                           "-1",        "--cpu-period",
                                           "100000",    "--cpuset-cpus",
                                           "0-1",       "--cpuset-mems",
                                           "0",         "--pids-limit",
                                           "64",        "ctr"});
  EXPECT_EQ(update.id, "ctr");
  EXPECT_EQ(update.resources_file, "/res.json");
  EXPECT_EQ(update.memory, 512 * 1024 * 1024);
  EXPECT_EQ(update.memory_reservation, 256 * 1024 * 1024);
  EXPECT_EQ(update.memory_swap, -1);
  EXPECT_EQ(update.cpu_shares, 512u);
  EXPECT_EQ(update.cpu_quota, -1);
  EXPECT_EQ(update.cpu_period, 100000u);
  EXPECT_EQ(update.cpuset_cpus, "0-1");
  EXPECT_EQ(update.cpuset_mems, "0");
  EXPECT_EQ(update.pids_limit, 64);
  EXPECT_EQ(command_of<UpdateOptions>({"update", "--cpu-shares", "2", "c"}).cpu_shares, 2u);
  EXPECT_FALSE(command_of<UpdateOptions>({"update", "c"}).memory);
}

TEST(CliUpdate, Errors) {
  EXPECT_THAT(parse_error({"update", "--memory", "lots", "c"}).message,
              HasSubstr("update: --memory: \"lots\" is not a size"));
  EXPECT_THAT(parse_error({"update", "--cpu-share", "-5", "c"}).message,
              HasSubstr("not an unsigned integer"));
  EXPECT_THAT(parse_error({"update", "--blkio-weight", "10", "c"}).message,
              HasSubstr("--blkio-weight is not supported"));
  EXPECT_THAT(parse_error({"update", "--kernel-memory", "1m", "c"}).message,
              HasSubstr("not supported"));
}

TEST(CliEvents, StatsAndInterval) {
  auto events = command_of<EventsOptions>({"events", "c"});
  EXPECT_FALSE(events.stats);
  EXPECT_EQ(events.interval, std::chrono::seconds(5));
  auto custom = command_of<EventsOptions>({"events", "--stats", "--interval", "1m30s", "c"});
  EXPECT_TRUE(custom.stats);
  EXPECT_EQ(custom.interval, std::chrono::seconds(90));
  EXPECT_THAT(parse_error({"events", "--interval", "0s", "c"}).message,
              HasSubstr("not a positive duration"));
  EXPECT_THAT(parse_error({"events", "--interval", "5", "c"}).message, HasSubstr("missing unit"));
}

TEST(CliSpec, BundleAndRootless) {
  auto spec = command_of<SpecOptions>({"spec"});
  EXPECT_EQ(spec.bundle, "");
  EXPECT_FALSE(spec.rootless);
  auto rootless = command_of<SpecOptions>({"spec", "--rootless", "-b", "/b"});
  EXPECT_TRUE(rootless.rootless);
  EXPECT_EQ(rootless.bundle, "/b");
  EXPECT_THAT(parse_error({"spec", "x"}).message, HasSubstr("expected no arguments"));
}

TEST(CliOthers, FeaturesCheckpointRestoreInit) {
  command_of<FeaturesOptions>({"features"});
  EXPECT_THAT(parse_error({"features", "x"}).message, HasSubstr("expected no arguments"));
  // checkpoint/restore take runc's flags without complaint: the answer is "not supported".
  EXPECT_EQ(command_of<UnsupportedCommand>({"checkpoint", "--image-path", "/i", "c"}).name,
            "checkpoint");
  EXPECT_EQ(command_of<UnsupportedCommand>({"restore", "c"}).name, "restore");
  command_of<InitOptions>({"init"});
}

TEST(CliNames, EveryCommandNamesItself) {
  EXPECT_EQ(command_name(parse_ok({"create", "c"}).command), "create");
  EXPECT_EQ(command_name(parse_ok({"checkpoint", "c"}).command), "checkpoint");
  EXPECT_EQ(command_name(parse_ok({"--version"}).command), "version");
}

}  // namespace
}  // namespace corral::cli
