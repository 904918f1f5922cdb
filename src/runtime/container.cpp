#include "runtime/container.hpp"
#include "reactor/child_process.hpp"
#include "runtime/default_devices.hpp"
#include "runtime/resources_json.hpp"
#include "runtime/unix_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "runtime/hooks.hpp"
#include "runtime/init_launch.hpp"
#include "runtime/proc_stat.hpp"
#include "runtime/protected_binary.hpp"
#include "runtime/recorded_config.hpp"

namespace corral {

namespace {

using Clock = std::chrono::steady_clock;
using protocol::SyncType;

template <class T>
T block(reactor::Task<T> task) {
  if (auto* current = reactor::Reactor::current()) return current->block_on(std::move(task));
  // A small ring: a blocking call has a handful of operations in flight, and a CLI makes one
  // of these per call, so the setup cost of a large ring would be paid on every command.
  reactor::Reactor reactor(reactor::ReactorOptions{.queue_depth = 64});
  return reactor.block_on(std::move(task));
}

Error system_error(const std::string& message, ErrorCause cause = {}) {
  return Error(ErrorCode::SystemError, message, std::move(cause));
}

// remove_all, repeated while another process changes the directory under it: a foreground
// `corral run` recording its container's exit writes a temporary file and renames it to
// state.json meanwhile, so the walk can meet a directory made non-empty, or an entry that is
// gone (ENOENT) by the time it unlinks it. That write cannot outlive the directory: it never
// makes one.
std::error_code remove_directory(const std::string& dir) {
  std::error_code ec;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ec.clear();
    std::filesystem::remove_all(dir, ec);
    if (ec != std::errc::directory_not_empty && ec != std::errc::no_such_file_or_directory) break;
  }
  return ec;
}

}  // namespace

int shell_status(const ExitRecord& exit) {
  if (!exit.known) return -1;
  return exit.code == CLD_EXITED ? exit.status : 128 + exit.status;
}

Container::Container(std::shared_ptr<const ContainerHome> home, ContainerState state, Config config,
                     std::unique_ptr<cgroups::Manager> manager, int pidfd)
    : home_(std::move(home)),
      store_(home_->store),
      settings_(home_->settings),
      state_(std::move(state)),
      config_(std::make_unique<Config>(std::move(config))),
      manager_(std::move(manager)),
      pidfd_(pidfd) {
  // The group's paths live in manager_ (made from them on load): state.json gets them from
  // there, and a supervisor of thousands does not hold every path twice.
  if (manager_) state_.cgroup_paths.clear();
  // Likewise the namespace paths that name the init's own: held as the namespaces' types.
  for (auto it = state_.namespace_paths.begin(); it != state_.namespace_paths.end();) {
    auto type = namespace_from_proc_name(it->first);
    if (type && it->second == own_namespace_path(*type)) {
      namespace_types_ |= namespace_bit(*type);
      it = state_.namespace_paths.erase(it);
    } else {
      ++it;
    }
  }
  // The configuration as state.json records it is made again from config_ at each save: a
  // supervisor of thousands should not hold a second, JSON copy of every configuration.
  if (state_.config.is_object() && state_.config.contains("corral")) {
    config_recorded_ = true;
    state_.config.erase("corral");
    state_.config.erase("hooks");
    state_.config.erase("linux_resources");
  }
}

nlohmann::json Container::recorded_config() const {
  nlohmann::json recorded = {{"corral", protocol::config_to_json(*config_)},
                             {"hooks", hooks_to_json(config_->hooks)}};
  // The limits as created ("resources" beside them holds what `update` changed since): a
  // container loaded from state.json and restarted gets them again.
  if (config_->linux_spec.resources)
    recorded["linux_resources"] = resources_to_json(*config_->linux_spec.resources);
  return recorded;
}

std::map<std::string, std::string> Container::cgroup_paths() const {
  return manager_ ? manager_->paths() : state_.cgroup_paths;
}

std::string Container::own_namespace_path(NamespaceType type) const {
  return "/proc/" + std::to_string(state_.init_pid) + "/ns/" + proc_ns_name(type);
}

ContainerState Container::state_for_disk(nlohmann::json carried) const {
  ContainerState on_disk = state_;
  on_disk.cgroup_paths = cgroup_paths();
  for (NamespaceType type : kAllNamespaceTypes)
    if (namespace_types_ & namespace_bit(type))
      on_disk.namespace_paths[proc_ns_name(type)] = own_namespace_path(type);
  if (config_recorded_) {
    if (!on_disk.config.is_object()) on_disk.config = nlohmann::json::object();
    nlohmann::json recorded = config_ ? recorded_config() : std::move(carried);
    for (const char* key : {"corral", "hooks", "linux_resources"})
      if (recorded.is_object() && recorded.contains(key))
        on_disk.config[key] = std::move(recorded[key]);
  }
  return on_disk;
}

bool Container::carries_config_over() const {
  return config_recorded_ && !config_;
}

nlohmann::json Container::carried_config(Expected<ContainerState> on_disk) const {
  if (on_disk) return std::move(on_disk->config);
  // The state is still written (an exit must not be lost for it); what it loses is said, and
  // a later unpark_config() fails saying the configuration is not recorded.
  std::fprintf(stderr,
               "corral: container %s: state.json is written again without its recorded "
               "configuration: %s\n",
               state_.id.c_str(), on_disk.error().what().c_str());
  return nullptr;
}

const Config& Container::config() const {
  if (!config_) {
    std::fprintf(stderr, "container %s: config() while the configuration is parked\n",
                 state_.id.c_str());
    std::abort();
  }
  return *config_;
}

void Container::park_config() {
  // Only what state.json holds can be read back (a container loaded from an older file keeps
  // its configuration in memory).
  if (config_ && config_recorded_) config_.reset();
}

Expected<void> Container::unpark_config() const {
  if (config_) return {};
  auto recorded = store_.load(state_.id);
  if (!recorded)
    return fail(std::move(recorded).error().with_context("container " + state_.id +
                                                         ": read its configuration back"));
  auto config = config_from_record(recorded->config, state_.id, store_.state_path(state_.id));
  if (!config) return fail(std::move(config).error());
  config_ = std::make_unique<Config>(std::move(*config));
  return {};
}

Container::~Container() {
  close_pipe();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Container::close_pipe() {
  if (pipe_fd_ >= 0) ::close(pipe_fd_);
  pipe_fd_ = -1;
  reader_.reset();  // the conversation is over
}

std::string Container::oci_state() const {
  return oci_state_json(state_.id, state_.status, state_.init_pid, state_.bundle,
                        state_.annotations)
      .dump();
}

Expected<void> Container::save() {
  state_unsaved_ = false;
  nlohmann::json carried;
  if (carries_config_over()) carried = carried_config(store_.load(state_.id));
  auto saved = store_.save(state_for_disk(std::move(carried)));
  if (!saved) return fail(std::move(saved).error().with_context("container " + state_.id));
  return {};
}

reactor::Task<Expected<void>> Container::save_async(bool sync) {
  state_unsaved_ = false;  // this write carries whatever a deferred exit left out
  nlohmann::json carried;
  if (carries_config_over()) {
    auto on_disk = co_await store_.load_async(state_.id);
    carried = carried_config(std::move(on_disk));
  }
  auto saved = co_await store_.save_async(state_for_disk(std::move(carried)), sync);
  if (!saved) co_return fail(std::move(saved).error().with_context("container " + state_.id));
  co_return Expected<void>{};
}

void Container::release_pidfd() {
  if (pidfd_ < 0) return;
  ::close(pidfd_);
  pidfd_ = -1;
  pidfd_released_ = true;
}

Container::InitPidfd Container::init_pidfd() const {
  if (!has_init()) return {-1, false};
  if (pidfd_ >= 0) return {pidfd_, false};
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, state_.init_pid, 0));
  if (fd < 0) return {-1, false};
  // Opened first, checked second: the pidfd pins the process the check then names. A zombie
  // still counts (its start time is kept), so our unreaped child always matches.
  auto stat = read_proc_stat(state_.init_pid);
  if (!stat || stat->start_time != state_.init_start_time) {
    ::close(fd);
    return {-1, false};
  }
  return {fd, true};
}

bool Container::init_alive() const {
  InitPidfd init = init_pidfd();
  if (init.fd < 0) return false;
  pollfd p{init.fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

Expected<void> Container::require_alive(const char* operation) const {
  if (!init_alive())
    return fail(Error(ErrorCode::ContainerNotRunning,
                      std::string(operation) + " container " + state_.id + ": it is not running"));
  return {};
}

// ---- the init-pipe conversation -------------------------------------------------------------

reactor::Task<Expected<std::optional<std::string>>> Container::next_frame(
    Clock::time_point deadline) {
  for (;;) {
    if (!reader_) reader_ = std::make_unique<protocol::FrameReader>();
    auto frame = reader_->next();
    if (!frame)
      co_return fail(
          std::move(frame).error().with_context("container " + state_.id + ": init pipe"));
    if (*frame || reader_->at_eof()) co_return std::move(*frame);
    char buffer[4096];
    auto remaining = deadline - Clock::now();
    auto n = co_await reactor::recv(pipe_fd_, buffer, sizeof buffer).with_timeout(remaining);
    if (!reader_)  // the pipe was closed meanwhile (a kill during create)
      co_return fail(system_error("container " + state_.id + ": the init pipe was closed"));
    if (!n) {
      if (n.error().value() == ETIME)
        co_return fail(system_error("container " + state_.id + ": the init did not answer within " +
                                        std::to_string(settings_.setup_timeout.count()) + " ms",
                                    ErrorCause{ETIMEDOUT, "read init pipe", {}}));
      if (n.error().value() == ECONNRESET) {
        reader_->feed_eof();
        continue;
      }
      co_return fail(
          Error::from_errno(n.error().value(), "container " + state_.id + ": read init pipe"));
    }
    if (*n == 0)
      reader_->feed_eof();
    else
      reader_->feed(std::string_view(buffer, *n));
  }
}

reactor::Task<Expected<void>> Container::send_line(std::string line) {
  std::size_t sent = 0;
  while (sent < line.size()) {
    auto n = co_await reactor::send(pipe_fd_, line.data() + sent, line.size() - sent);
    if (!n)
      co_return fail(
          Error::from_errno(n.error().value(), "container " + state_.id + ": write init pipe"));
    sent += *n;
  }
  co_return Expected<void>{};
}

// Plain functions building the tasks: the temporaries live here, not in a co_await expression
// (g++ 12 mishandles class-type temporaries inside co_await operands).
reactor::Task<Expected<void>> Container::send_sync(protocol::SyncType type) {
  return send_line(protocol::encode(protocol::SyncMessage{type, 0, {}}));
}
reactor::Task<Expected<void>> Container::hooks_task(const std::vector<Hook>& hooks,
                                                    const char* kind) {
  return run_hooks(hooks, oci_state(), kind, state_.id);
}
reactor::Task<Expected<void>> Container::container_hooks_task(const std::vector<Hook>& hooks,
                                                              const char* kind) {
  hook_namespaces_.init_pid = state_.init_pid;
  hook_namespaces_.types.clear();
  for (const auto& ns : config_->linux_spec.namespaces) hook_namespaces_.types.push_back(ns.type);
  return run_hooks(hooks, oci_state(), kind, state_.id, &hook_namespaces_);
}
reactor::Task<Expected<void>> Container::hook_task(const Hook& hook, const char* kind) {
  return run_hook(hook, oci_state(), kind, state_.id);
}

// After procError comes the serialized error; it becomes ours with the container named.
static Error init_failure(const std::string& id, Expected<std::optional<std::string>> frame) {
  if (!frame) return std::move(frame).error();
  if (!*frame)
    return system_error("container " + id + ": the init said procError and then closed the pipe");
  Error e = protocol::decode_error(**frame);
  return Error(ErrorCode::SystemError, "container " + id + ": init: " + e.message(), e.cause());
}

reactor::Task<Expected<void>> Container::drive_setup(Clock::time_point deadline) {
  for (;;) {
    auto frame = co_await next_frame(deadline);
    if (!frame) co_return fail(std::move(frame).error());
    if (!*frame)
      co_return fail(system_error("container " + state_.id + ": the init exited before procReady"));
    auto message = protocol::decode_sync(**frame);
    if (!message)
      co_return fail(
          std::move(message).error().with_context("container " + state_.id + ": init pipe"));
    switch (message->type) {
      case SyncType::ProcHooks: {
        state_.status = ContainerStatus::Creating;
        // prestart and createRuntime in ours, createContainer in the container's namespaces; all
        // before pivot_root, as the OCI spec places them.
        auto ran = co_await hooks_task(config_->hooks.prestart, "prestart");
        if (ran) ran = co_await hooks_task(config_->hooks.create_runtime, "createRuntime");
        if (ran)
          ran = co_await container_hooks_task(config_->hooks.create_container, "createContainer");
        if (!ran) co_return fail(std::move(ran).error());
        auto sent = co_await send_sync(SyncType::ProcResume);
        if (!sent) co_return sent;
        break;
      }
      case SyncType::ProcReady:
        co_return Expected<void>{};
      case SyncType::ProcError: {
        auto error_frame = co_await next_frame(deadline);
        co_return fail(init_failure(state_.id, std::move(error_frame)));
      }
      default:
        co_return fail(system_error("container " + state_.id + ": unexpected " +
                                    std::string(to_string(message->type)) +
                                    " from the init during setup"));
    }
  }
}

// ---- create / start / run -------------------------------------------------------------------

// The namespaces of the init as the launcher takes them: new ones as clone flags, joined ones
// by path, a new user namespace with its maps.
static Expected<InitSpawn> plan_init_spawn(const Config& config, const std::string& context) {
  InitSpawn spawn;
  for (const auto& ns : config.linux_spec.namespaces) {
    if (ns.path.empty()) {
      // The init makes its cgroup namespace itself, once it is in its cgroup (protocol step 4).
      if (ns.type != NamespaceType::Cgroup) spawn.clone_flags |= clone_flag(ns.type);
    } else if (ns.type == NamespaceType::Mount) {
      return fail(Error(ErrorCode::Unsupported, context + ": joining a mount namespace (" +
                                                    ns.path + ") is not supported"));
    } else if (ns.type == NamespaceType::Pid) {
      spawn.pid_namespace_path = ns.path;
    } else {
      spawn.join_namespaces.push_back(ns.path);
    }
  }
  if (spawn.clone_flags & CLONE_NEWUSER) {
    // The init starts as root of its user namespace (see init_launch.hpp).
    if (!maps_root(config.linux_spec.uid_mappings) || !maps_root(config.linux_spec.gid_mappings))
      return fail(Error(ErrorCode::ConfigInvalid,
                        context + ": linux.uidMappings and linux.gidMappings must map the "
                                  "container's uid 0 and gid 0 to host ids"));
    spawn.uid_mappings = config.linux_spec.uid_mappings;
    spawn.gid_mappings = config.linux_spec.gid_mappings;
  }
  return spawn;
}

reactor::Task<Expected<void>> Container::create(ProcessIo io) {
  const std::string context = "create container " + state_.id;
  if (state_.status != ContainerStatus::Creating || pidfd_ >= 0)
    co_return fail(Error(ErrorCode::ContainerNotStopped, context + ": it was already created"));
  if (!config_->process)
    co_return fail(Error(ErrorCode::ConfigInvalid, context + ": the config has no process"));
  if (config_->process->terminal && io.console_socket_fd < 0) {
    co_await cleanup_after_failure();  // the factory's claim on the id goes too
    co_return fail(Error(ErrorCode::ConfigInvalid,
                         context + ": process.terminal is true but no console socket was given"));
  }

  auto planned = plan_init_spawn(*config_, context);
  if (!planned) {
    co_await cleanup_after_failure();
    co_return fail(std::move(planned).error());
  }
  InitSpawn spawn = std::move(*planned);

  std::string fifo = fifo_path();
  if (::mkfifo(fifo.c_str(), 0622) < 0 || ::chmod(fifo.c_str(), 0622) < 0) {
    auto e = Error::from_errno(errno, context + ": mkfifo", fifo);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }

  cgroups::CgroupSpec spec;
  spec.container_id = state_.id;
  spec.cgroups_path = config_->linux_spec.cgroups_path;
  spec.parent = settings_.cgroup_parent;
  auto manager = cgroups::open_manager(spec);
  Expected<void> step;
  if (!manager) {
    step = fail(std::move(manager).error());
  } else {
    manager_ = std::move(*manager);
    // Recorded (status creating) before the group exists, and again below with the init's pid:
    // a process that dies from here on leaves a state.json from which a later destroy()
    // (`corral delete --force`) finds the group and the init to remove (state_for_disk takes
    // the group's paths from manager_).
    state_.created_ns = unix_time_ns();  // `state` shows when this began; set again once created
    step = co_await save_async();
    if (step) step = manager_->create();
    // Device rules matter only when the config restricts devices; then the defaults go with them.
    if (step && config_->linux_spec.resources) {
      Resources resources = *config_->linux_spec.resources;
      if (!resources.devices.empty())
        resources = with_default_device_rules(std::move(resources), config_->linux_spec.devices);
      step = manager_->apply(resources);
    }
  }
  if (!step) {
    auto e = std::move(step).error().with_context(context);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }

  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sockets) < 0) {
    auto e = Error::from_errno(errno, context + ": socketpair");
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }
  pipe_fd_ = sockets[0];
  // The child's end must block: the init reads it with plain read().
  int flags = ::fcntl(sockets[1], F_GETFL);
  ::fcntl(sockets[1], F_SETFL, flags & ~O_NONBLOCK);
  spawn.program = settings_.init_path;
  // Never by path: a container must not be able to write the init through /proc/PID/exe.
  auto init_binary = protected_init_binary(settings_.init_path);
  if (!init_binary) {
    ::close(sockets[1]);
    auto e = std::move(init_binary).error().with_context(context);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }
  spawn.program_fd = init_binary->fd;
  spawn.argv = settings_.init_argv;
  spawn.env = {
      std::string(protocol::kInitPipeEnv) + "=" + std::to_string(child_pipe_fd(io.preserved_fds)),
      std::string(protocol::kInitTypeEnv) + "=standard"};
  spawn.stdio[0] = io.stdin_fd;
  spawn.stdio[1] = io.stdout_fd;
  spawn.stdio[2] = io.stderr_fd;
  spawn.pipe_fd = sockets[1];
  // The fifo goes to the init as a descriptor (the first extra fd, after the pipe): an init in
  // a user namespace could not reach it through the runtime's 0700 state directory.
  int fifo_fd = ::open(fifo.c_str(), O_PATH | O_CLOEXEC);
  if (fifo_fd < 0) {
    auto e = Error::from_errno(errno, context + ": open", fifo);
    ::close(sockets[1]);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }
  spawn.extra_fds = {fifo_fd};
  spawn.preserved_fds = io.preserved_fds;
  // The console socket follows the fifo (child_extra_fd(P, 1)).
  if (config_->process->terminal) spawn.extra_fds.push_back(io.console_socket_fd);
  auto child = spawn_init(spawn);
  ::close(sockets[1]);
  ::close(fifo_fd);
  if (!child) {
    auto e = std::move(child).error().with_context(context);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }
  pidfd_ = child->pidfd;
  our_child_ = true;
  state_.init_pid = child->pid;
  auto stat = read_proc_stat(child->pid);
  state_.init_start_time = stat ? stat->start_time : 0;

  // The init reads nothing until the bootstrap: it must be in its cgroup before that.
  step = manager_->add_process(child->pid);
  if (step) step = co_await save_async();
  auto deadline = Clock::now() + settings_.setup_timeout;
  if (step) {
    protocol::Bootstrap bootstrap;
    bootstrap.init_type = protocol::InitType::Standard;
    bootstrap.container_id = state_.id;
    bootstrap.bundle = config_->bundle;
    bootstrap.config = *config_;
    bootstrap.exec_fifo_path = fifo;
    bootstrap.exec_fifo_fd = child_extra_fd(io.preserved_fds, 0);
    bootstrap.preserved_fds = io.preserved_fds;
    if (config_->process->terminal)
      bootstrap.console_socket_fd = child_extra_fd(io.preserved_fds, 1);
    auto line = protocol::encode_for_init(std::move(bootstrap));
    if (line)
      step = co_await send_line(std::move(*line));
    else
      step = fail(std::move(line).error());
  }
  if (step) step = co_await drive_setup(deadline);
  if (step) {
    state_.status = ContainerStatus::Created;
    state_.created_ns = unix_time_ns();
    for (const auto& ns : config_->linux_spec.namespaces)
      namespace_types_ |= namespace_bit(ns.type);
    config_recorded_ = true;  // from now on state.json carries the configuration
    step = co_await save_async();
  }
  if (step) step = co_await send_sync(SyncType::ProcRun);
  if (step) step = co_await await_created(deadline);
  if (!step) {
    auto e = std::move(step).error();
    if (e.message().rfind("create container", 0) != 0) e.with_context(context);
    co_await cleanup_after_failure();
    co_return fail(std::move(e));
  }
  co_return Expected<void>{};
}

// After procRun the init finishes its setup (user, capabilities, cwd, seccomp) and says
// procCreated before it waits for `start`; a failure of those steps reaches `create` here.
reactor::Task<Expected<void>> Container::await_created(Clock::time_point deadline) {
  auto frame = co_await next_frame(deadline);
  if (!frame) co_return fail(std::move(frame).error());
  if (!*frame)
    co_return fail(system_error("container " + state_.id + ": the init exited before procCreated"));
  auto message = protocol::decode_sync(**frame);
  if (!message)
    co_return fail(
        std::move(message).error().with_context("container " + state_.id + ": init pipe"));
  if (message->type == SyncType::ProcCreated) co_return Expected<void>{};
  if (message->type == SyncType::ProcError) {
    auto error_frame = co_await next_frame(deadline);
    co_return fail(init_failure(state_.id, std::move(error_frame)));
  }
  co_return fail(system_error("container " + state_.id + ": unexpected " +
                              std::string(to_string(message->type)) +
                              " from the init after procRun"));
}

// In-process start: the init's pipe tells whether it exec'd (end of stream), failed to exec
// (procExecFailed) or failed a late setup step (procError).
reactor::Task<Expected<void>> Container::await_init_exec(Clock::time_point deadline) {
  for (;;) {
    auto frame = co_await next_frame(deadline);
    if (!frame) co_return fail(std::move(frame).error());
    if (!*frame) break;
    auto message = protocol::decode_sync(**frame);
    if (!message)
      co_return fail(
          std::move(message).error().with_context("container " + state_.id + ": init pipe"));
    if (message->type == SyncType::ProcExecFailed) {
      exec_failure_ = ExecFailure{message->errno_value, message->path};
    } else if (message->type == SyncType::ProcError) {
      {
        auto error_frame = co_await next_frame(deadline);
        co_return fail(init_failure(state_.id, std::move(error_frame)));
      }
    } else {
      co_return fail(system_error("container " + state_.id + ": unexpected " +
                                  std::string(to_string(message->type)) +
                                  " from the init at start"));
    }
  }
  close_pipe();
  co_return Expected<void>{};
}

reactor::Task<Expected<void>> Container::start() {
  const std::string context = "start container " + state_.id;
  if (state_.status != ContainerStatus::Created)
    co_return fail(
        Error(ErrorCode::ContainerNotStopped,
              context + ": status is " + std::string(to_string(state_.status)) + ", not created"));
  // With the init pipe still open the init's fate is read from it (it may already have exited
  // on an exec failure, which is not a start failure); without it, the init must be alive.
  if (pipe_fd_ < 0)
    if (auto alive = require_alive("start"); !alive) co_return alive;
  if (auto unparked = unpark_config(); !unparked)
    co_return fail(std::move(unparked).error().with_context(context));
  auto hooks = co_await container_hooks_task(config_->hooks.start_container, "startContainer");
  if (!hooks) {
    co_await cleanup_after_failure();
    co_return fail(std::move(hooks).error());
  }
  std::string fifo = fifo_path();
  int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) co_return fail(Error::from_errno(errno, context + ": open", fifo));
  Expected<void> released;
  if (pipe_fd_ >= 0) {
    released = co_await await_init_exec(Clock::now() + settings_.setup_timeout);
  } else {
    // Not the creator: watch the fifo (the init's byte) and the pidfd (its death) together.
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    ev.data.fd = pidfd_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, pidfd_, &ev);
    // A wake-up without the byte (an interrupted poll) is not the init's death: that is only
    // concluded once the pidfd says so and the fifo still holds nothing.
    for (;;) {
      auto ready = co_await reactor::poll(ep, POLLIN);
      if (!ready && ready.error().value() != EINTR && ready.error().value() != ECANCELED) {
        released = fail(Error::from_errno(ready.error().value(), context + ": poll exec fifo"));
        break;
      }
      char byte;
      if (::read(fd, &byte, 1) == 1) break;
      pollfd exited{pidfd_, POLLIN, 0};
      if (::poll(&exited, 1, 0) == 1 && ::read(fd, &byte, 1) != 1) {
        released = fail(system_error(context + ": the init exited before it was started"));
        break;
      }
    }
    ::close(ep);
  }
  char drain[16];
  while (::read(fd, drain, sizeof drain) > 0) {
  }
  ::close(fd);
  ::unlink(fifo.c_str());
  if (!released) {
    co_await cleanup_after_failure();
    co_return fail(std::move(released).error());
  }
  state_.status = ContainerStatus::Running;
  if (auto saved = co_await save_async(); !saved) co_return saved;
  co_await run_logged_hooks(config().hooks.poststart, "poststart");
  co_return Expected<void>{};
}

reactor::Task<Expected<void>> Container::run(ProcessIo io) {
  auto created = co_await create(io);
  if (!created) co_return created;
  co_return co_await start();
}

// ---- after start ----------------------------------------------------------------------------

// The exit and its time go to state.json through the reactor; a container whose directory is
// already gone (destroyed) has nothing left to record into.
void Container::mark_exited(ExitRecord exit) {
  state_.exit = exit;
  state_.status = ContainerStatus::Stopped;
}

reactor::Task<void> Container::record_exit(ExitRecord exit, bool sync) {
  mark_exited(exit);
  if (::access(dir().c_str(), F_OK) == 0) (void)co_await save_async(sync);
}

reactor::Task<void> Container::record_reaped_exit(ExitRecord exit) {
  reaped_ = true;
  co_await record_exit(exit);
}

Expected<std::optional<ExitRecord>> Container::peek_exit() const {
  if (!our_child_ || !has_init())
    return fail(Error(ErrorCode::ContainerNotRunning,
                      "wait for container " + state_.id + ": no child init to wait for"));
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(state_.init_pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    return fail(Error::from_errno(errno, "wait for container " + state_.id));
  if (info.si_pid == 0) return std::optional<ExitRecord>{};
  ExitRecord exit;
  exit.code = info.si_code;
  exit.status = info.si_status;
  exit.time_ns = unix_time_ns();
  return std::optional<ExitRecord>{exit};
}

reactor::Task<void> Container::record_and_reap(ExitRecord exit, ExitWrite write) {
  // Recorded first, reaped second: should this process die in between, the zombie (and its
  // status) goes to our subreaper, not to oblivion.
  if (write == ExitWrite::Deferred) {
    mark_exited(exit);
    state_unsaved_ = true;
  } else {
    co_await record_exit(exit, write == ExitWrite::Synced);
  }
  reactor::reap_exited_child(state_.init_pid);
  reaped_ = true;
}

reactor::Task<Expected<void>> Container::save_unsaved() {
  if (!state_unsaved_) co_return Expected<void>{};
  // A container destroyed meanwhile has no directory left to write into.
  if (::access(dir().c_str(), F_OK) != 0) {
    state_unsaved_ = false;
    co_return Expected<void>{};
  }
  auto saved = co_await save_async(/*sync=*/false);
  if (!saved) state_unsaved_ = true;  // still to be written: the caller tries again later
  co_return saved;
}

reactor::Task<Expected<ExitRecord>> Container::wait() {
  if (state_.exit) co_return *state_.exit;
  if (!has_init())
    co_return fail(Error(ErrorCode::ContainerNotRunning,
                         "wait for container " + state_.id + ": no init to wait for"));
  ExitRecord exit;
  if (our_child_) {
    // Learnt without reaping (WNOWAIT): record_and_reap writes it before the reap.
    auto child = co_await reactor::wait_for_child_exit(state_.init_pid, pidfd_, WNOWAIT);
    if (!child)
      co_return fail(Error::from_errno(child.error().value(), "wait for container " + state_.id));
    exit.code = child->code;
    exit.status = child->status;
    exit.time_ns = unix_time_ns();
    co_await record_and_reap(exit, ExitWrite::Synced);
    co_return exit;
  } else {
    InitPidfd init = init_pidfd();
    if (init.fd >= 0) {
      auto ready = co_await reactor::poll(init.fd, POLLIN);
      if (!ready)
        co_return fail(Error::from_errno(ready.error().value(), "wait for container " + state_.id));
    }
    exit.known = false;
  }
  exit.time_ns = unix_time_ns();
  co_await record_exit(exit);
  co_return exit;
}

Expected<void> Container::signal(int sig, bool all) {
  if (auto alive = require_alive("signal"); !alive) return alive;
  if (all) {
    if (!manager_) return fail(system_error("signal container " + state_.id + ": no cgroup"));
    return manager_->kill_all(sig);
  }
  InitPidfd init = init_pidfd();
  if (init.fd < 0)
    return fail(Error(ErrorCode::ContainerNotRunning,
                      "signal container " + state_.id + ": it is not running"));
  if (::syscall(SYS_pidfd_send_signal, init.fd, sig, nullptr, 0) < 0)
    return fail(Error::from_errno(errno, "signal container " + state_.id + ": pidfd_send_signal"));
  return {};
}

Expected<void> Container::pause() {
  if (state_.status != ContainerStatus::Running || !init_alive())
    return fail(Error(ErrorCode::ContainerNotRunning,
                      "pause container " + state_.id + ": it is not running"));
  if (auto frozen = manager_->freeze(); !frozen)
    return fail(std::move(frozen).error().with_context("pause container " + state_.id));
  state_.status = ContainerStatus::Paused;
  return save();
}

Expected<void> Container::resume() {
  if (state_.status != ContainerStatus::Paused)
    return fail(Error(ErrorCode::ContainerNotPaused,
                      "resume container " + state_.id + ": it is not paused"));
  if (auto thawed = manager_->thaw(); !thawed)
    return fail(std::move(thawed).error().with_context("resume container " + state_.id));
  state_.status = ContainerStatus::Running;
  return save();
}

Expected<std::vector<pid_t>> Container::processes() const {
  if (!manager_) return std::vector<pid_t>{};
  return manager_->procs();
}

reactor::Task<void> Container::kill_and_reap() {
  close_pipe();
  InitPidfd init = init_pidfd();
  if (init.fd >= 0) ::syscall(SYS_pidfd_send_signal, init.fd, SIGKILL, nullptr, 0);
  if (manager_) {
    (void)manager_->kill_all(SIGKILL);
    // A frozen task would never act on its SIGKILL (and thawing a thawed group costs a write).
    if (auto state = manager_->freezer_state(); !state || *state != cgroups::FreezerState::Thawed)
      (void)manager_->thaw();
  }
  if (init.fd >= 0) {
    if (our_child_) {
      auto exit = co_await wait();
      (void)exit;
    } else {
      (void)co_await reactor::poll(init.fd, POLLIN);
    }
  }
}

reactor::Task<void> Container::cleanup_after_failure() {
  co_await kill_and_reap();
  if (manager_) (void)manager_->destroy();
  std::error_code ignored;
  std::filesystem::remove_all(dir(), ignored);
  state_.status = ContainerStatus::Stopped;
}

reactor::Task<void> Container::run_logged_hooks(const std::vector<Hook>& hooks, const char* kind) {
  for (const auto& hook : hooks) {
    auto ran = co_await hook_task(hook, kind);
    if (!ran) std::fprintf(stderr, "corral: %s (ignored)\n", ran.error().what().c_str());
  }
}

reactor::Task<Expected<void>> Container::destroy() {
  // Before the directory goes: a parked configuration is read back from its state.json.
  auto unparked = unpark_config();
  if (!unparked)
    std::fprintf(stderr, "corral: destroy container %s: its poststop hooks are not run: %s\n",
                 state_.id.c_str(), unparked.error().what().c_str());
  co_await kill_and_reap();
  if (manager_) {
    auto destroyed = manager_->destroy();
    if (!destroyed)
      co_return fail(std::move(destroyed).error().with_context("destroy container " + state_.id));
  }
  std::error_code ec = remove_directory(dir());
  if (ec)
    co_return fail(
        Error::from_errno(ec.value(), "destroy container " + state_.id + ": remove", dir()));
  state_.status = ContainerStatus::Stopped;
  if (unparked) co_await run_logged_hooks(config().hooks.poststop, "poststop");
  co_return Expected<void>{};
}

Expected<void> Container::create_blocking(ProcessIo io) {
  return block(create(io));
}
Expected<void> Container::start_blocking() {
  return block(start());
}
Expected<void> Container::run_blocking(ProcessIo io) {
  return block(run(io));
}
Expected<ExitRecord> Container::wait_blocking() {
  return block(wait());
}
Expected<void> Container::destroy_blocking() {
  return block(destroy());
}

}  // namespace corral
