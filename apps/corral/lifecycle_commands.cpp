// The commands that act on containers, on top of the lifecycle library (Factory/Container).
// Each opens the factory at --root, loads or creates the container and calls one library
// operation through its *_blocking wrapper; errors from the library already name the container
// and the cause, so they are passed on as they are. exec, update, events and init have files of
// their own (exec_command.cpp, update_command.cpp, events_command.cpp).
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/corral/commands.hpp"
#include "apps/corral/console_socket.hpp"
#include "apps/corral/container_lock.hpp"
#include "apps/corral/foreground_terminal.hpp"
#include "apps/corral/pid_file.hpp"
#include "apps/corral/process_file.hpp"
#include "apps/corral/ps_table.hpp"
#include "apps/corral/signal_forwarding.hpp"
#include "apps/corral/state_format.hpp"
#include "apps/corral/unreadable_container.hpp"
#include "apps/corral/update_resources.hpp"
#include "runtime/factory.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::cli {
namespace {

using ContainerPtr = std::unique_ptr<Container>;

Expected<Factory> open_factory(const CommandContext& context) {
  return Factory::create(context.global.root);
}

Expected<ContainerPtr> load_container(const CommandContext& context, const std::string& id) {
  auto factory = open_factory(context);
  if (!factory) return fail(std::move(factory).error());
  auto loaded = factory->load(id);
  if (!loaded) return fail(explain_load_failure(factory->root(), id, std::move(loaded).error()));
  return loaded;
}

// Creates the container and leaves its init waiting on exec.fifo. The container's stdio is
// corral's own (runc's detached mode without a terminal), or a pty sent to the console socket
// (`terminal`: given by run in the foreground, which relays it; else --console-socket). On any
// failure after the library created it, the container is destroyed so that no half-made state
// remains.
Expected<ContainerPtr> create_container(const CommandContext& context, const CreateOptions& options,
                                        bool detached, ForegroundTerminal* foreground = nullptr) {
  auto factory = open_factory(context);
  if (!factory) return fail(std::move(factory).error());
  std::error_code ec;
  const std::string bundle =
      options.bundle.empty() ? std::filesystem::current_path(ec).string() : options.bundle;
  auto config = load_config(bundle);
  if (!config)
    return fail(std::move(config).error().with_context("create container " + options.id));
  const bool wants_terminal = config->process && config->process->terminal;
  // In the foreground without a console socket, run relays the terminal itself.
  ForegroundTerminal* terminal =
      foreground && wants_terminal && options.console_socket.empty() ? foreground : nullptr;
  if (!terminal) {
    if (auto checked =
            check_console_options(options.id, wants_terminal, detached, options.console_socket);
        !checked)
      return fail(std::move(checked).error());
  }
  ProcessIo io{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, options.preserve_fds, -1};
  int connected = -1;
  if (terminal) {
    auto end = terminal->prepare();
    if (!end) return fail(std::move(end).error().with_context("create container " + options.id));
    io.console_socket_fd = *end;
  } else if (!options.console_socket.empty()) {
    auto socket = connect_console_socket(options.console_socket);
    if (!socket)
      return fail(std::move(socket).error().with_context("create container " + options.id));
    connected = io.console_socket_fd = *socket;
  }
  auto container = factory->create_container(options.id, std::move(*config));
  if (!container) {
    if (connected >= 0) ::close(connected);
    return fail(std::move(container).error());
  }
  auto created = (*container)->create_blocking(io);
  if (connected >= 0) ::close(connected);
  if (!created) return fail(std::move(created).error());
  if (terminal) {
    if (auto received = terminal->receive_master(options.id); !received) {
      if (auto destroyed = (*container)->destroy_blocking(); !destroyed)
        context.log.error(destroyed.error().what());
      return fail(std::move(received).error());
    }
  }
  if (!options.pid_file.empty()) {
    if (auto written = write_pid_file(options.pid_file, (*container)->init_pid()); !written) {
      if (auto destroyed = (*container)->destroy_blocking(); !destroyed)
        context.log.error(destroyed.error().what());
      return fail(std::move(written).error());
    }
  }
  return container;
}

// The user name owning the container's state directory, "#UID" when the uid has no name.
std::string directory_owner(const std::string& root, const std::string& id) {
  struct stat st {};
  if (::stat((root + "/" + id).c_str(), &st) < 0) return {};
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(st.st_uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    return found->pw_name;
  return "#" + std::to_string(st.st_uid);
}

ContainerSummary summarize(const Container& container, const std::string& root) {
  const ContainerState& state = container.state();
  ContainerSummary summary;
  if (state.config.is_object() && state.config.contains("ociVersion") &&
      state.config["ociVersion"].is_string())
    summary.oci_version = state.config["ociVersion"].get<std::string>();
  summary.id = state.id;
  summary.status = std::string(to_string(state.status));
  summary.pid = state.status == ContainerStatus::Stopped ? 0 : state.init_pid;
  summary.bundle = state.bundle;
  summary.rootfs = state.rootfs;
  summary.created = SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(state.created_ns)));
  summary.owner = directory_owner(root, state.id);
  summary.annotations = state.annotations;
  return summary;
}

}  // namespace

Expected<void> run_create(const CommandContext& context, const CreateOptions& options) {
  auto container = create_container(context, options, /*detached=*/true);
  if (!container) return fail(std::move(container).error());
  // Destroying the Container object only closes our descriptors: the init keeps waiting on
  // exec.fifo for `corral start`.
  return {};
}

Expected<int> run_run(const CommandContext& context, const RunOptions& options) {
  // Held for create and start only: while the container runs, kill and delete must get in.
  auto lock = ContainerLock::acquire(context.global.root, options.create.id);
  if (!lock) return fail(std::move(lock).error());
  // In the foreground corral stands in for the container: the signals it gets are forwarded.
  std::optional<ForwardedSignals> signals;
  if (!options.detach) signals.emplace();
  ForegroundTerminal terminal;
  auto container = create_container(context, options.create, options.detach,
                                    options.detach ? nullptr : &terminal);
  if (!container) return fail(std::move(container).error());
  if (auto started = (*container)->start_blocking(); !started) {
    if (auto destroyed = (*container)->destroy_blocking(); !destroyed)
      context.log.error(destroyed.error().what());
    return fail(std::move(started).error());
  }
  if (options.detach) return 0;
  const DirectoryIdentity ours = directory_identity(context.global.root, options.create.id);
  lock->release();
  auto exit = wait_forwarding_signals_blocking(**container, *signals,
                                               terminal.relaying() ? &terminal : nullptr);
  if (!exit) return fail(std::move(exit).error());
  lock = ContainerLock::acquire(context.global.root, options.create.id);
  if (!lock) return fail(std::move(lock).error());
  // Someone may have deleted it meanwhile (and even made another container of that id).
  if (!options.keep && directory_identity(context.global.root, options.create.id) == ours) {
    if (auto destroyed = (*container)->destroy_blocking(); !destroyed)
      return fail(std::move(destroyed).error());
  }
  const int status = shell_status(*exit);
  // An unknown status cannot happen for a child of ours; report it as a failure anyway.
  return status < 0 ? 255 : status;
}

Expected<void> run_start(const CommandContext& context, const StartOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  if ((*container)->status() != ContainerStatus::Created)
    return fail(Error(ErrorCode::ContainerNotStopped,
                      fmt::format("start container {}: it is {}, not created", options.id,
                                  to_string((*container)->status()))));
  return (*container)->start_blocking();
}

Expected<void> run_state(const CommandContext& context, const StateOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  context.out << format_state_json(summarize(**container, context.global.root));
  return {};
}

Expected<void> run_kill(const CommandContext& context, const KillOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  return (*container)->signal(options.signal, options.all);
}

Expected<void> run_delete(const CommandContext& context, const DeleteOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) {
    if (options.force && container_dir_exists(context.global.root, options.id))
      return remove_unreadable_container(context.global.root, options.id,
                                         FactoryOptions{}.cgroup_parent, context.log);
    // runc: --force on a container that does not exist is not an error.
    if (options.force && container.error().code() == ErrorCode::ContainerNotExists) return {};
    return fail(std::move(container).error());
  }
  const ContainerStatus status = (*container)->status();
  const bool deletable = status == ContainerStatus::Stopped || status == ContainerStatus::Created;
  if (!deletable && !options.force)
    return fail(Error(ErrorCode::ContainerNotStopped,
                      fmt::format("cannot delete container {} that is not stopped: {}", options.id,
                                  to_string(status))));
  // A frozen process cannot die: thaw it before destroy() kills what is left.
  if (status == ContainerStatus::Paused) {
    if (auto resumed = (*container)->resume(); !resumed) context.log.debug(resumed.error().what());
  }
  return (*container)->destroy_blocking();
}

Expected<void> run_list(const CommandContext& context, const ListOptions& options) {
  auto factory = open_factory(context);
  if (!factory) return fail(std::move(factory).error());
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(context.global.root, ec), end; !ec && it != end;
       it.increment(ec))
    if (it->is_directory(ec)) ids.push_back(it->path().filename().string());
  if (ec)
    return fail(Error(ErrorCode::SystemError,
                      fmt::format("list containers in {}: {}", context.global.root, ec.message()),
                      ErrorCause{ec.value(), "readdir", context.global.root}));
  std::sort(ids.begin(), ids.end());
  std::vector<ContainerSummary> summaries;
  for (const std::string& id : ids) {
    auto container = factory->load(id);
    if (!container) {
      // A container being created or deleted right now has no readable state: skip it.
      context.log.debug(fmt::format("list: skipping {}: {}", id, container.error().what()));
      continue;
    }
    summaries.push_back(summarize(**container, context.global.root));
  }
  if (options.quiet)
    context.out << format_list_ids(summaries);
  else if (options.format == OutputFormat::Json)
    context.out << format_list_json(summaries);
  else
    context.out << format_list_table(summaries);
  return {};
}

// runc's table from /proc (ps_table.hpp); other ps(1) options than runc's default -ef are refused.
Expected<void> run_ps(const CommandContext& context, const PsOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  auto pids = (*container)->processes();
  if (!pids) return fail(std::move(pids).error());
  if (options.format == OutputFormat::Json) {
    context.out << nlohmann::json(*pids).dump() << "\n";
    return {};
  }
  if (!options.ps_args.empty() && options.ps_args != std::vector<std::string>{"-ef"})
    return fail(Error(
        ErrorCode::Unsupported,
        fmt::format("ps container {}: ps options other than -ef are not supported", options.id)));
  std::vector<PsRow> rows;
  for (pid_t pid : *pids)
    if (auto row = read_ps_row(pid)) rows.push_back(std::move(*row));
  context.out << format_ps_table(rows);
  return {};
}

Expected<void> run_pause(const CommandContext& context, const PauseOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  return (*container)->pause();
}

Expected<void> run_resume(const CommandContext& context, const ResumeOptions& options) {
  auto container = load_container(context, options.id);
  if (!container) return fail(std::move(container).error());
  return (*container)->resume();
}

}  // namespace corral::cli
