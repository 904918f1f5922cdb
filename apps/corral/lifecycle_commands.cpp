// The commands that act on containers. They need the lifecycle library (Factory/Container), which
// is not part of this branch yet: each fails, naming itself, rather than pretend to work. To wire
// one: open the factory at context.global.root and replace the body; output formatters for state
// and list are ready in state_format.hpp, signals are parsed already (KillOptions::signal), exec
// --process files load with load_process_file(), update limits come from update_resources().
#include <fmt/format.h>

#include "apps/corral/commands.hpp"
#include "apps/corral/process_file.hpp"
#include "apps/corral/update_resources.hpp"

namespace corral::cli {
namespace {

Error not_implemented(std::string_view command) {
  return Error(ErrorCode::Unsupported, fmt::format("{}: not implemented yet", command));
}

}  // namespace

Expected<void> run_create(const CommandContext&, const CreateOptions&) {
  return fail(not_implemented("create"));
}
Expected<int> run_run(const CommandContext&, const RunOptions&) {
  return fail(not_implemented("run"));
}
Expected<void> run_start(const CommandContext&, const StartOptions&) {
  return fail(not_implemented("start"));
}
Expected<void> run_state(const CommandContext&, const StateOptions&) {
  return fail(not_implemented("state"));
}
Expected<void> run_kill(const CommandContext&, const KillOptions&) {
  return fail(not_implemented("kill"));
}
Expected<void> run_delete(const CommandContext&, const DeleteOptions&) {
  return fail(not_implemented("delete"));
}
Expected<void> run_list(const CommandContext&, const ListOptions&) {
  return fail(not_implemented("list"));
}
Expected<void> run_ps(const CommandContext&, const PsOptions&) {
  return fail(not_implemented("ps"));
}
Expected<int> run_exec(const CommandContext&, const ExecOptions& options) {
  // The process file is checked already, so a bad one is reported as such, not as missing code.
  if (!options.process_file.empty()) {
    auto process = load_process_file(options.process_file);
    if (!process) return fail(std::move(process).error());
  }
  return fail(not_implemented("exec"));
}
Expected<void> run_pause(const CommandContext&, const PauseOptions&) {
  return fail(not_implemented("pause"));
}
Expected<void> run_resume(const CommandContext&, const ResumeOptions&) {
  return fail(not_implemented("resume"));
}
Expected<void> run_update(const CommandContext& context, const UpdateOptions& options) {
  auto resources = update_resources(options, context.in);
  if (!resources) return fail(std::move(resources).error());
  return fail(not_implemented("update"));
}
Expected<void> run_events(const CommandContext&, const EventsOptions&) {
  return fail(not_implemented("events"));
}
Expected<void> run_init(const CommandContext&, const InitOptions&) {
  return fail(not_implemented("init"));
}

}  // namespace corral::cli
