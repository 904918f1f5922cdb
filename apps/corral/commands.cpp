#include "apps/corral/commands.hpp"

#include <fmt/format.h>

#include <exception>
#include <ostream>

#include "apps/corral/container_lock.hpp"
#include "apps/corral/features.hpp"
#include "apps/corral/usage.hpp"
#include "apps/corral/version.hpp"

namespace corral::cli {
namespace {

// Every command's result as an exit status.
template <class T>
Expected<int> as_status(Expected<T> result) {
  if constexpr (std::is_void_v<T>) {
    if (!result) return fail(std::move(result).error());
    return 0;
  } else {
    return result;
  }
}

// The container a command changes, and so must hold the lock of (container_lock.hpp) while it
// runs; nullptr for the others. `run` locks itself: not while its container runs. `exec` takes
// none: the container stays as it is, and it waits for its process.
const std::string* container_to_lock(const CommandOptions& command) {
  return std::visit(
      [](const auto& options) -> const std::string* {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, CreateOptions> || std::is_same_v<T, StartOptions> ||
                      std::is_same_v<T, KillOptions> || std::is_same_v<T, DeleteOptions> ||
                      std::is_same_v<T, PauseOptions> || std::is_same_v<T, ResumeOptions> ||
                      std::is_same_v<T, UpdateOptions>)
          return &options.id;
        else
          return nullptr;
      },
      command);
}

Expected<int> dispatch(const CommandContext& context, const CommandOptions& command) {
  return std::visit(
      [&](const auto& options) -> Expected<int> {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, HelpRequest>) {
          context.out << usage_text(options.command);
          return 0;
        } else if constexpr (std::is_same_v<T, VersionRequest>) {
          context.out << version_text();
          return 0;
        } else if constexpr (std::is_same_v<T, SpecOptions>) {
          return as_status(run_spec(context, options));
        } else if constexpr (std::is_same_v<T, FeaturesOptions>) {
          return as_status(run_features(context, options));
        } else if constexpr (std::is_same_v<T, UnsupportedCommand>) {
          return as_status(run_unsupported(context, options));
        } else if constexpr (std::is_same_v<T, CreateOptions>) {
          return as_status(run_create(context, options));
        } else if constexpr (std::is_same_v<T, RunOptions>) {
          return run_run(context, options);
        } else if constexpr (std::is_same_v<T, StartOptions>) {
          return as_status(run_start(context, options));
        } else if constexpr (std::is_same_v<T, StateOptions>) {
          return as_status(run_state(context, options));
        } else if constexpr (std::is_same_v<T, KillOptions>) {
          return as_status(run_kill(context, options));
        } else if constexpr (std::is_same_v<T, DeleteOptions>) {
          return as_status(run_delete(context, options));
        } else if constexpr (std::is_same_v<T, ListOptions>) {
          return as_status(run_list(context, options));
        } else if constexpr (std::is_same_v<T, PsOptions>) {
          return as_status(run_ps(context, options));
        } else if constexpr (std::is_same_v<T, ExecOptions>) {
          return run_exec(context, options);
        } else if constexpr (std::is_same_v<T, PauseOptions>) {
          return as_status(run_pause(context, options));
        } else if constexpr (std::is_same_v<T, ResumeOptions>) {
          return as_status(run_resume(context, options));
        } else if constexpr (std::is_same_v<T, UpdateOptions>) {
          return as_status(run_update(context, options));
        } else if constexpr (std::is_same_v<T, EventsOptions>) {
          return as_status(run_events(context, options));
        } else {
          static_assert(std::is_same_v<T, InitOptions>, "a command without a function");
          return as_status(run_init(context, options));
        }
      },
      command);
}

// dispatch() with the container's lock held when the command changes one.
Expected<int> dispatch_holding_lock(const CommandContext& context, const CommandOptions& command) {
  const std::string* id = container_to_lock(command);
  if (!id) return dispatch(context, command);
  auto lock = ContainerLock::acquire(context.global.root, *id);
  if (!lock) return fail(std::move(lock).error());
  return dispatch(context, command);
}

}  // namespace

Expected<void> run_features(const CommandContext& context, const FeaturesOptions&) {
  context.out << features_document().dump(4) << "\n";
  return {};
}

Expected<void> run_unsupported(const CommandContext&, const UnsupportedCommand& command) {
  return fail(Error(ErrorCode::Unsupported, fmt::format("{} is not supported", command.name)));
}

int run_invocation(const CliInvocation& invocation, Logger& log, std::ostream& out,
                   std::istream& in) {
  const std::string name = command_name(invocation.command);
  try {
    if (log.debug_enabled()) {
      log.debug(fmt::format("corral {}: root {}", name, invocation.global.root));
    }
    CommandContext context{invocation.global, log, out, in};
    Expected<int> status = dispatch_holding_lock(context, invocation.command);
    out.flush();
    if (!status) {
      log.report_failure("corral: " + status.error().what());
      return 1;
    }
    return *status;
  } catch (const std::exception& e) {
    // Nothing below is meant to throw; if something does (bad_alloc, a library), the caller
    // still gets one error line and a log entry rather than std::terminate.
    log.report_failure(fmt::format("corral: {}: internal error: {}", name, e.what()));
    return 1;
  }
}

}  // namespace corral::cli
