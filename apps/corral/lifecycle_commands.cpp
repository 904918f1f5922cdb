// The commands that act on containers, on top of the lifecycle library (Factory/Container).
// Each opens the factory at --root, loads or creates the container and calls one library
// operation through its *_blocking wrapper; errors from the library already name the container
// and the cause, so they are passed on as they are. exec, update, events and init are not wired
// yet and fail, naming themselves.
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
#include "apps/corral/container_lock.hpp"
#include "apps/corral/process_file.hpp"
#include "apps/corral/ps_table.hpp"
#include "apps/corral/state_format.hpp"
#include "apps/corral/unreadable_container.hpp"
#include "apps/corral/update_resources.hpp"
#include "runtime/factory.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::cli {
namespace {

using ContainerPtr = std::unique_ptr<Container>;

Error not_implemented(std::string_view command) {
  return Error(ErrorCode::Unsupported, fmt::format("{}: not implemented yet", command));
}

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

// The pid file is written to a temporary name beside it and renamed, so that a reader never
// sees a partial pid (runc does the same).
Expected<void> write_pid_file(const std::string& path, pid_t pid) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(path);
  const std::string temp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp")).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Error::from_errno(errno, "write pid file: open", temp));
  const std::string text = std::to_string(pid);
  ssize_t written = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    ::unlink(temp.c_str());
    return fail(Error::from_errno(written < 0 ? saved : EIO, "write pid file: write", temp));
  }
  if (::rename(temp.c_str(), target.c_str()) < 0) {
    saved = errno;
    ::unlink(temp.c_str());
    return fail(Error::from_errno(saved, "write pid file: rename to " + target.string(), temp));
  }
  return {};
}

// Creates the container and leaves its init waiting on exec.fifo. The container's stdio is
// corral's own (runc's detached mode without a terminal). On any failure after the library
// created it, the container is destroyed so that no half-made state remains.
Expected<ContainerPtr> create_container(const CommandContext& context,
                                        const CreateOptions& options) {
  if (!options.console_socket.empty())
    return fail(Error(ErrorCode::Unsupported, "create container " + options.id +
                                                  ": --console-socket is not supported yet"));
  if (options.preserve_fds > 0)
    return fail(Error(ErrorCode::Unsupported,
                      "create container " + options.id + ": --preserve-fds is not supported yet"));
  auto factory = open_factory(context);
  if (!factory) return fail(std::move(factory).error());
  std::error_code ec;
  const std::string bundle =
      options.bundle.empty() ? std::filesystem::current_path(ec).string() : options.bundle;
  auto config = load_config(bundle);
  if (!config)
    return fail(std::move(config).error().with_context("create container " + options.id));
  if (config->process && config->process->terminal)
    return fail(Error(ErrorCode::Unsupported,
                      "create container " + options.id +
                          ": process.terminal is true, but terminals are not supported yet"));
  auto container = factory->create_container(options.id, std::move(*config));
  if (!container) return fail(std::move(container).error());
  if (auto created =
          (*container)->create_blocking(ProcessIo{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO});
      !created)
    return fail(std::move(created).error());
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
  auto container = create_container(context, options);
  if (!container) return fail(std::move(container).error());
  // Destroying the Container object only closes our descriptors: the init keeps waiting on
  // exec.fifo for `corral start`.
  return {};
}

Expected<int> run_run(const CommandContext& context, const RunOptions& options) {
  // Held for create and start only: while the container runs, kill and delete must get in.
  auto lock = ContainerLock::acquire(context.global.root, options.create.id);
  if (!lock) return fail(std::move(lock).error());
  auto container = create_container(context, options.create);
  if (!container) return fail(std::move(container).error());
  if (auto started = (*container)->start_blocking(); !started) {
    if (auto destroyed = (*container)->destroy_blocking(); !destroyed)
      context.log.error(destroyed.error().what());
    return fail(std::move(started).error());
  }
  if (options.detach) return 0;
  const DirectoryIdentity ours = directory_identity(context.global.root, options.create.id);
  lock->release();
  auto exit = (*container)->wait_blocking();
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

Expected<int> run_exec(const CommandContext&, const ExecOptions& options) {
  // The process file is checked already, so a bad one is reported as such, not as missing code.
  if (!options.process_file.empty()) {
    auto process = load_process_file(options.process_file);
    if (!process) return fail(std::move(process).error());
  }
  return fail(not_implemented("exec"));
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
