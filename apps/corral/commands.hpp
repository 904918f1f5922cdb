#pragma once
// One function per corral command, each taking its parsed options (cli_args.hpp). They return a
// corral::Error on failure; run_invocation() turns that into exit status 1 with the message on
// stderr and in the log. Output meant for the caller (state JSON, list, features) goes to `out`.
//
// The commands that need the container lifecycle (Factory/Container) are declared here and
// defined in lifecycle_commands.cpp and the *_command.cpp files; checkpoint and restore answer
// with a clear "not supported" error.
#include <iosfwd>

#include "apps/corral/cli_args.hpp"
#include "apps/corral/log.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

struct CommandContext {
  const GlobalOptions& global;
  Logger& log;
  std::ostream& out;
  std::istream& in;
};

// Commands that need no container (spec_command.cpp, commands.cpp).
Expected<void> run_spec(const CommandContext& context, const SpecOptions& options);
Expected<void> run_features(const CommandContext& context, const FeaturesOptions& options);
Expected<void> run_unsupported(const CommandContext& context, const UnsupportedCommand& command);

// Commands of the lifecycle (lifecycle_commands.cpp). run and exec return the exit status
// corral itself must exit with: the container process's status when it is waited for.
Expected<void> run_create(const CommandContext& context, const CreateOptions& options);
Expected<int> run_run(const CommandContext& context, const RunOptions& options);
Expected<void> run_start(const CommandContext& context, const StartOptions& options);
Expected<void> run_state(const CommandContext& context, const StateOptions& options);
Expected<void> run_kill(const CommandContext& context, const KillOptions& options);
Expected<void> run_delete(const CommandContext& context, const DeleteOptions& options);
Expected<void> run_list(const CommandContext& context, const ListOptions& options);
Expected<void> run_ps(const CommandContext& context, const PsOptions& options);
Expected<int> run_exec(const CommandContext& context, const ExecOptions& options);
Expected<void> run_pause(const CommandContext& context, const PauseOptions& options);
Expected<void> run_resume(const CommandContext& context, const ResumeOptions& options);
Expected<void> run_update(const CommandContext& context, const UpdateOptions& options);
Expected<void> run_events(const CommandContext& context, const EventsOptions& options);
Expected<void> run_init(const CommandContext& context, const InitOptions& options);

// Runs a parsed command line and returns corral's exit status: 0, the container's status for a
// foreground run/exec, or 1 after reporting a failure (stderr + log). Never throws.
int run_invocation(const CliInvocation& invocation, Logger& log, std::ostream& out,
                   std::istream& in);

}  // namespace corral::cli
