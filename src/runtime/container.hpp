#pragma once
// Container: one container's life on the reactor. Every operation is a coroutine
// (reactor::Task<Expected<...>>) that must run on the thread owning the current Reactor; the
// *_blocking wrappers run it to completion on the thread's reactor (or a temporary one) for the
// CLI.
//
// create() starts corral-init in the configured namespaces, puts it in the container's cgroup,
// drives the init-pipe protocol (runtime/spec/protocol.hpp) through procHooks (prestart and
// createRuntime hooks in the runtime's namespaces, then createContainer hooks in the container's)
// to procReady, persists state.json (status created) and sends procRun; the init then waits on
// exec.fifo in the container directory. start(), from this or another process, runs the
// startContainer hooks in the container's namespaces, then opens the fifo for reading: that
// releases the init into execve.
//
// A setup failure (procError, a malformed or oversized message, a timeout, a failed
// prestart/createRuntime/createContainer/startContainer hook) returns a SystemError naming the
// step and leaves nothing behind: the init is killed and reaped, the cgroup destroyed, the
// container directory removed. An exec failure (program not found: 127, not executable: 126)
// is not a library error: create/start succeed, wait() reports the status and exec_failure()
// says what happened (when this process drove the init).
#include <unistd.h>

#include <sys/types.h>
#include <utility>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reactor/task.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/container_state.hpp"
#include "runtime/hooks.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/spec/protocol.hpp"
#include "runtime/state_store.hpp"

namespace corral {

inline constexpr const char* kExecFifoName = "exec.fifo";

// What the factory hands to each container.
struct ContainerSettings {
  std::string init_path;               // absolute
  std::vector<std::string> init_argv;  // argv[0] included
  std::string cgroup_parent = "/corral";
  std::chrono::milliseconds setup_timeout{60'000};
};

// What every container of one Factory shares: its state store and settings, held once rather
// than copied into each of a supervisor's thousands of containers (~250 bytes each).
struct ContainerHome {
  StateStore store;
  ContainerSettings settings;
};

// The stdio of a container's process: borrowed descriptors (dup'ed into the child); -1 means
// /dev/null.
struct ProcessIo {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // fds 3 .. 3+preserved_fds-1 of this process reach the container's process as the same
  // numbers (runc's --preserve-fds). create() only.
  unsigned preserved_fds = 0;
  // process.terminal: a connected AF_UNIX socket (borrowed); the init makes the pty in the
  // container and sends its master over it (SCM_RIGHTS), as runc's --console-socket. create()
  // only; required when the config asks for a terminal.
  int console_socket_fd = -1;
};

struct ExecFailure {
  int errno_value = 0;  // ENOENT: not found (exit 127); else not executable (exit 126)
  std::string path;     // the program as process.args[0] named it
};

// The shell's view of an exit: the status, or 128 + the signal; -1 when unknown.
int shell_status(const ExitRecord& exit);

// An additional process started in a running container (Container::exec).
class ExecProcess {
 public:
  ExecProcess(pid_t pid, int pidfd, std::optional<ExecFailure> failure);
  ~ExecProcess();
  ExecProcess(const ExecProcess&) = delete;
  ExecProcess& operator=(const ExecProcess&) = delete;

  pid_t pid() const { return pid_; }  // in the host's PID namespace
  const std::optional<ExecFailure>& exec_failure() const { return failure_; }
  Expected<void> signal(int sig);
  // Reaps it; the exit as a shell reports it (128 + N for signal N).
  reactor::Task<Expected<ExitRecord>> wait();

 private:
  friend class Container;
  pid_t pid_;
  int pidfd_;
  bool reaped_ = false;
  std::optional<ExitRecord> exit_;
  std::optional<ExecFailure> failure_;
};

class Container {
 public:
  // Made by Factory (create_container: status Creating; load: from state.json).
  Container(std::shared_ptr<const ContainerHome> home, ContainerState state, Config config,
            std::unique_ptr<cgroups::Manager> manager, int pidfd);
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  const std::string& id() const { return state_.id; }
  // cgroup_paths is empty here while the container has its cgroup manager (see cgroup_paths()).
  const ContainerState& state() const { return state_; }
  std::map<std::string, std::string> cgroup_paths() const;
  ContainerStatus status() const { return state_.status; }
  // The configuration. A parked container (park_config) must be unparked first
  // (unpark_config), which can fail; calling this on one that is still parked is a bug, and
  // aborts saying so.
  const Config& config() const;
  // A supervisor of thousands does not hold a running container's configuration (~1.4 KB
  // parsed, ~2.7 KB as text): state.json records it, and it is read back from there when
  // something needs it again (exec, destroy's poststop hooks, a restart; a state.json write
  // carries the recorded form over). Does nothing unless state.json holds the configuration.
  void park_config();
  // Reads the configuration back from state.json, with `update`'s limits on top; fails, naming
  // the container and the file, when state.json is gone or no longer holds it (the container
  // stays parked). Does nothing unless parked.
  Expected<void> unpark_config() const;
  bool config_parked() const { return config_ == nullptr; }
  pid_t init_pid() const { return state_.init_pid; }
  // The init's pidfd (-1 once gone or never known): a supervisor polls it to learn of the exit
  // without starting wait() (which is not cancellable) until there is something to reap.
  int pidfd() const { return pidfd_; }
  // The container's cgroup (stats, OOM counters); null for a container without one.
  const cgroups::Manager* cgroup_manager() const { return manager_.get(); }
  const std::optional<ExecFailure>& exec_failure() const { return exec_failure_; }
  // The OCI state JSON (what hooks read on stdin).
  std::string oci_state() const;

  reactor::Task<Expected<void>> create(ProcessIo io = {});
  reactor::Task<Expected<void>> start();
  reactor::Task<Expected<void>> run(ProcessIo io = {});  // create + start
  // Waits for the init to exit and records it in state.json. When this process did not start
  // the init (a loaded container), the exit is observed through a pidfd but its status cannot
  // be learnt: the record says known = false.
  reactor::Task<Expected<ExitRecord>> wait();
  // Records the exit of an init that this process did not start, as learnt from the process
  // that reaped it (corrald's keeper): state.json gets the true status instead of "unknown".
  reactor::Task<void> record_reaped_exit(ExitRecord exit);
  // wait() in two halves, for a supervisor that makes exits durable in its own journal
  // between them. peek_exit: the exit of our own init once it has exited (nullopt while it
  // runs), learnt without reaping it, so the zombie keeps the status meanwhile.
  Expected<std::optional<ExitRecord>> peek_exit() const;
  // How record_and_reap writes the exit to state.json before the reap.
  enum class ExitWrite {
    Synced,    // written and fsync'ed: the only record there is
    Unsynced,  // written, not synced: the caller's journal holds it durably
    Deferred,  // kept in memory only (state_unsaved()) until save_unsaved(): ditto
  };
  // Records `exit` (see ExitWrite) and then reaps our init.
  reactor::Task<void> record_and_reap(ExitRecord exit, ExitWrite write);
  // True while a Deferred exit is in memory but not yet in state.json.
  bool state_unsaved() const { return state_unsaved_; }
  // Writes what a Deferred exit left unsaved (no sync); nothing if nothing is.
  reactor::Task<Expected<void>> save_unsaved();
  // True when this process cloned the init (and so reaps it).
  bool our_child() const { return our_child_; }
  // Closes the init's pidfd: a supervisor of thousands keeps its descriptor table small (a
  // clone copies it). Later operations open a pidfd for the moment they need one, checked
  // against the init's start time, so a recycled pid is never signalled or joined.
  void release_pidfd();
  // The init exists and has not been reaped by us (its pidfd may have been released).
  bool has_init() const { return !reaped_ && (pidfd_ >= 0 || pidfd_released_); }
  // all = false: the init, through its pidfd; all = true: every process of the cgroup.
  Expected<void> signal(int sig, bool all = false);
  Expected<void> pause();
  Expected<void> resume();
  // Kills what is left, reaps the init if ours, removes the cgroup and the container
  // directory, then runs the poststop hooks (their failures are only logged).
  reactor::Task<Expected<void>> destroy();
  Expected<std::vector<pid_t>> processes() const;
  // New limits for a live container (container_update.cpp): the fields set in `changes` are
  // written to its cgroup and merged into state.json's record of its resources
  // (config["resources"], OCI linux.resources JSON); the others stay as they are.
  Expected<void> update(const Resources& changes);
  // What the kernel accounts for the container's cgroup (memory, cpu, pids, OOM kills).
  Expected<cgroups::Stats> stats() const;
  // Runs `process` in the running container's namespaces and cgroup.
  reactor::Task<Expected<std::unique_ptr<ExecProcess>>> exec(Process process, ProcessIo io = {});

  Expected<void> create_blocking(ProcessIo io = {});
  Expected<void> start_blocking();
  Expected<void> run_blocking(ProcessIo io = {});
  Expected<ExitRecord> wait_blocking();
  Expected<void> destroy_blocking();

 private:
  reactor::Task<Expected<void>> drive_setup(std::chrono::steady_clock::time_point deadline);
  reactor::Task<Expected<std::optional<std::string>>> next_frame(
      std::chrono::steady_clock::time_point deadline);
  reactor::Task<Expected<void>> send_line(std::string line);
  reactor::Task<Expected<void>> send_sync(protocol::SyncType type);
  reactor::Task<Expected<void>> hooks_task(const std::vector<Hook>& hooks, const char* kind);
  reactor::Task<Expected<void>> hook_task(const Hook& hook, const char* kind);
  // createContainer/startContainer: in the init's namespaces (hooks.hpp).
  reactor::Task<Expected<void>> container_hooks_task(const std::vector<Hook>& hooks,
                                                     const char* kind);
  reactor::Task<Expected<void>> await_created(std::chrono::steady_clock::time_point deadline);
  reactor::Task<Expected<void>> await_init_exec(std::chrono::steady_clock::time_point deadline);
  reactor::Task<void> cleanup_after_failure();
  reactor::Task<void> kill_and_reap();
  reactor::Task<void> run_logged_hooks(const std::vector<Hook>& hooks, const char* kind);
  reactor::Task<Expected<void>> save_async(bool sync = true);
  Expected<void> save();
  Expected<void> require_alive(const char* operation) const;
  bool init_alive() const;
  // The held pidfd, or after release_pidfd a new one, closed when the returned value goes;
  // fd < 0 if the init is gone.
  struct InitPidfd {
    int fd = -1;
    bool owned = false;
    InitPidfd(int f, bool o) : fd(f), owned(o) {}
    InitPidfd(InitPidfd&& other) noexcept : fd(std::exchange(other.fd, -1)), owned(other.owned) {}
    InitPidfd& operator=(InitPidfd&&) = delete;
    ~InitPidfd() {
      if (owned && fd >= 0) ::close(fd);
    }
  };
  InitPidfd init_pidfd() const;
  void mark_exited(ExitRecord exit);  // in memory only
  reactor::Task<void> record_exit(ExitRecord exit, bool sync = true);
  bool state_unsaved_ = false;
  // state.json holds the configuration (from create on): state_for_disk() adds it to state_.
  bool config_recorded_ = false;
  // What save() writes. A parked container's recorded configuration is `carried` over from the
  // file as it is (read by the caller, sync or async), not parsed.
  ContainerState state_for_disk(nlohmann::json carried = nullptr) const;
  bool carries_config_over() const;
  // state.json's "config" as read, or null (said on stderr) when it could not be read.
  nlohmann::json carried_config(Expected<ContainerState> on_disk) const;
  // /proc/INIT/ns/NAME: where state.json says the init's namespace of `type` is.
  std::string own_namespace_path(NamespaceType type) const;
  // {"corral": ..., "hooks": ..., "linux_resources": ...} of the configuration held (unparked).
  nlohmann::json recorded_config() const;
  std::string dir() const { return store_.container_dir(state_.id); }
  std::string fifo_path() const { return dir() + "/" + kExecFifoName; }
  void close_pipe();

  std::shared_ptr<const ContainerHome> home_;
  const StateStore& store_;  // home_'s
  const ContainerSettings& settings_;
  ContainerState state_;
  // The init's namespaces, one bit each (namespace_bit): state.json's namespace_paths are made
  // from them at each write rather than held, ~600 bytes, for every container.
  std::uint16_t namespace_types_ = 0;
  // Null while parked. Mutable: unpark_config() reads it back.
  mutable std::unique_ptr<Config> config_;
  std::unique_ptr<cgroups::Manager> manager_;
  int pidfd_ = -1;
  bool pidfd_released_ = false;
  bool our_child_ = false;  // we cloned it: waitid reaps it and tells its status
  bool reaped_ = false;
  int pipe_fd_ = -1;  // our end of the init pipe, while the init has not exec'd
  std::unique_ptr<protocol::FrameReader> reader_;  // while talking with the init
  std::optional<ExecFailure> exec_failure_;
  ContainerNamespaces hook_namespaces_;  // outlives the hook tasks that point at it
};

}  // namespace corral
