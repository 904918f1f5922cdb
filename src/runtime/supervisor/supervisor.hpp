#pragma once
// Supervisor: many containers on one reactor thread, with no thread or process per container.
//
// It creates and starts containers through a Factory, watches each init's exit on the reactor
// (a poll on the init's pidfd, then Container::wait, which reaps our own child and writes the
// exit status and time to state.json), restarts them by policy with backoff, captures their
// stdout/stderr through a pipe per stream into a CRI-format log file, and tells subscribers
// what happened (created, started, exited, oom, restarted, deleted).
//
// Layout under the root:
//   ROOT/containers/ID/state.json        the Factory's (runc-like) container state
//   ROOT/supervised/ID/meta.json         bundle, restart policy, restart count, stopped by user
//   ROOT/supervised/ID/container.log     CRI log, rotated to container.log.1, .2, ...
//
// Threading contract: a Supervisor belongs to the thread that owns the Reactor it was opened
// on; every method must be called there (from another thread, hand the call over with
// Reactor::post). Coroutines returned must be awaited on that thread.
//
// Recovery: open() followed by recover() loads every container under the root. A running one
// is watched again. This process is not its parent, so it cannot reap it: alone, the
// Supervisor sees the exit through a pidfd and records known = false. Under corrald's keeper
// (exit_reaper), the keeper reaps it and the true status arrives by deliver_exit().
// Logs: the Supervisor pumps them itself, or hands the pipes to the keeper (log_handoff), whose
// pipes and log files outlive a corrald crash (docs/corrald.md).
#include <signal.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/factory.hpp"
#include "runtime/supervisor/cri_log.hpp"
#include "runtime/supervisor/event.hpp"
#include "runtime/supervisor/exit_group_commit.hpp"
#include "runtime/supervisor/notifier.hpp"
#include "runtime/supervisor/reaped_exit.hpp"
#include "runtime/supervisor/restart_policy.hpp"

namespace corral::supervisor {

struct SupervisorOptions {
  std::string root = "/run/corrald";
  FactoryOptions factory;
  BackoffSettings backoff;
  LogRotation log_rotation;
  std::size_t max_log_line = CriLineSplitter::kDefaultMaxLine;
  std::chrono::milliseconds stop_grace{10'000};  // shutdown(stop_containers): TERM, then KILL
  // Set: the read ends of a new container's stdout and stderr pipes go to this function (which
  // passes them on, e.g. to corrald's keeper, and must not keep them: they are closed after the
  // call) with the log file to write; nothing is pumped here. Unset: logs are pumped here.
  std::function<Expected<void>(const std::string& id, const std::string& log_path, int out_fd,
                               int err_fd)>
      log_handoff;
  // Set: the process that reaps the inits this process did not start (taken over after a
  // restart, and now that process's children: corrald's keeper). Their exits then arrive by
  // deliver_exit(); exit_folded(seq) is called once one is in state.json (or known to belong
  // to no container), so its record may be dropped. An init with another parent is watched
  // through a pidfd and its status is unknown.
  pid_t exit_reaper = 0;
  std::function<void(std::uint64_t seq)> exit_folded;
  // How long exits must stop arriving before the exit journal's checkpoint syncs the state
  // files and empties it (ExitGroupCommit).
  std::chrono::milliseconds exit_checkpoint_quiet{1'000};
};

struct CreateRequest {
  std::string id;
  std::string bundle;  // directory holding config.json
  RestartPolicy restart;
};

struct ContainerInfo {
  std::string id;
  std::string bundle;
  std::string status;  // creating, created, running, paused, stopped, restarting
  pid_t pid = 0;
  RestartPolicy restart;
  unsigned restart_count = 0;
  bool stopped_by_user = false;
  std::optional<ExitRecord> exit;
  std::int64_t created_ns = 0;
  std::string log_path;
  nlohmann::json to_json() const;
};

class Supervisor {
 public:
  // Makes ROOT, ROOT/containers and ROOT/supervised (0700). Call on the reactor's thread.
  static Expected<std::unique_ptr<Supervisor>> open(SupervisorOptions options);
  // shutdown() must have completed (it joins the coroutines this object started).
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  const std::string& root() const { return options_.root; }

  // Loads the containers found under the root; returns how many, and reports the ones it could
  // not load to stderr (they are left on disk, untouched).
  reactor::Task<Expected<std::size_t>> recover();

  reactor::Task<Expected<ContainerInfo>> create(CreateRequest request);
  reactor::Task<Expected<ContainerInfo>> start(std::string id);
  reactor::Task<Expected<ContainerInfo>> run(CreateRequest request);
  // Signals the init (all = false) or every process of the container's cgroup. A kill through
  // the supervisor counts as a stop by the user: the exit that follows is not restarted, and a
  // pending restart is cancelled.
  Expected<void> kill(const std::string& id, int signal, bool all = false);
  // Removes a stopped (or created) container: its cgroup, state, logs. A running one needs
  // force (it is then killed first).
  reactor::Task<Expected<void>> remove(std::string id, bool force);
  Expected<ContainerInfo> state(const std::string& id) const;
  std::vector<ContainerInfo> list() const;
  // The container inits this process started and has not reaped yet (an exit may already be
  // recorded: the reap comes right after). A subreaper must leave them alone. One set for all,
  // built in one pass: a reaper asking pid by pid would cost O(containers) per zombie.
  std::unordered_set<pid_t> unreaped_inits() const;
  // Returns the exit once the container is stopped for good (no restart pending). A stop
  // request on `token` ends the wait with ECANCELED-like SystemError.
  reactor::Task<Expected<ExitRecord>> wait(std::string id, std::stop_token token = {});
  // cgroup statistics of one container.
  Expected<nlohmann::json> stats(const std::string& id) const;

  using Subscriber = std::function<void(const Event&)>;
  std::uint64_t subscribe(Subscriber subscriber);
  void unsubscribe(std::uint64_t handle);

  // The log of a container (files to read, and observe() for follow); an error when the logs
  // are written by another process (log_handoff): then read log_files().
  Expected<LogWriter*> log(const std::string& id);
  // The files holding a container's log, oldest first; the last is the live one.
  Expected<std::vector<std::string>> log_files(const std::string& id) const;
  // The exit of an init reaped by another process (exit_reaper). Records that arrive
  // before recover() are kept for it; a record of no container is acknowledged and dropped.
  void deliver_exit(ReapedExit record);

  // Ends every coroutine of the supervisor. Containers keep running unless stop_containers
  // (SIGTERM, then SIGKILL after the grace time); they stay on disk either way.
  reactor::Task<void> shutdown(bool stop_containers);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry;
  Supervisor(SupervisorOptions options, Factory factory);

  Entry* find(const std::string& id) const;
  std::string supervised_dir(const std::string& id) const;
  std::string log_path(const std::string& id) const;  // the CRI log (Entry does not hold it)
  ContainerInfo info(const Entry& e) const;
  void emit(EventType type, const Entry& e, std::optional<ExitRecord> exit = {});
  Expected<void> save_meta(Entry& e) const;  // skipped when unchanged
  // Makes the container (pipes, cgroup, init) and starts its log pumps; e.container replaced.
  reactor::Task<Expected<void>> launch(Entry& e, Config config, bool start);
  reactor::Task<void> pump(Entry& e, int fd, LogStream stream);
  // Watching a container: spawn_watch() arms a wait for the run's exit (arm_exit_wait: a
  // callback on the ring, no coroutine frame per waiting container); the exit (or a restart
  // due first) runs handle_exit(), which arms the next run's wait or ends the watch.
  void spawn_watch(Entry& e, bool restart_first);
  void arm_exit_wait(Entry& e);
  static void on_exit_wait(void* entry, int result);
  reactor::Task<void> handle_exit(Entry& e, bool restart_first);
  void end_watch(Entry& e);
  siginfo_t discarded_siginfo_{};  // where WNOWAIT waitids write: settle_exit reads the status
  std::size_t exit_waits_ = 0;     // armed on the ring; shutdown waits for their callbacks
  Notifier exit_waits_ended_;
  reactor::Task<void> wait_idle(Entry& e);
  reactor::Task<std::optional<std::chrono::milliseconds>> settle_exit(Entry& e);
  // The backoff before a restart: false if cut short (kill, delete, shutdown).
  reactor::Task<bool> back_off(Entry& e, std::chrono::milliseconds delay);
  // Destroys the exited run and launches the next: false if that failed (said on stderr).
  reactor::Task<bool> restart(Entry& e);

  SupervisorOptions options_;
  Factory factory_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  // Taken-over inits by pid, waiting for their exit record (exit_reaper).
  std::map<pid_t, Entry*> adopted_;
  std::map<pid_t, ReapedExit> unclaimed_exits_;  // arrived before recover() finished
  bool recovered_ = false;
  reactor::Task<void> fold_reaped_exit(Entry& e, ReapedExit record);
  // Our own init's exit: journaled (group commit), then reaped; written to state.json (no sync)
  // once the storm is over; Container::wait() (state.json synced) when the journal cannot be used.
  reactor::Task<Expected<ExitRecord>> wait_journaled(Entry& e);
  std::unique_ptr<ExitGroupCommit> exits_;
  // Exits journaled and held in memory, written to state.json at the next checkpoint.
  struct DeferredExit {
    std::string id;
    std::uint64_t seq = 0;
  };
  std::vector<DeferredExit> deferred_exits_;
  reactor::Task<void> write_deferred_exits();
  bool checkpoints_running_ = false;
  void release_pidfd_if_possible(Entry& e);
  bool logs_handed_off() const { return static_cast<bool>(options_.log_handoff); }
  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t next_subscriber_ = 1;
  std::stop_source shutdown_;
  bool shutting_down_ = false;
  reactor::TaskScope scope_;
};

}  // namespace corral::supervisor
