#include "runtime/supervisor/supervisor.hpp"
#include "runtime/unix_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "reactor/callback_op.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "runtime/cgroups/cgroupfs.hpp"
#include "runtime/proc_stat.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::supervisor {
namespace {

constexpr const char* kMetaFile = "meta.json";
constexpr const char* kLogFile = "container.log";

Error not_found(const std::string& id, const char* operation) {
  return Error(ErrorCode::ContainerNotExists,
               std::string(operation) + " container " + id + ": no such container");
}

Expected<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST)
    return fail(Error::from_errno(errno, "supervisor: mkdir", path));
  return {};
}

// meta.json is small and rewritten whole: a temp file renamed over it, so that a crash leaves
// the old or the new one.
Expected<void> write_file_atomically(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::from_errno(errno, "supervisor: write", temp));
  ssize_t n = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return fail(Error::from_errno(n < 0 ? saved : EIO, "supervisor: write", temp));
  if (::rename(temp.c_str(), path.c_str()) < 0)
    return fail(Error::from_errno(errno, "supervisor: rename", path));
  return {};
}

bool alive_status(ContainerStatus status) {
  return status == ContainerStatus::Created || status == ContainerStatus::Running ||
         status == ContainerStatus::Paused;
}

}  // namespace

struct Supervisor::Entry {
  std::string id;
  std::string bundle;
  RestartTracker tracker;
  std::unique_ptr<Container> container;
  std::optional<ExitRecord> last_exit;
  bool stopped_by_user = false;  // persisted: unless-stopped's memory across daemon restarts
  bool kill_requested = false;   // for the current run
  bool busy = false;             // a create, start or restart is in flight
  bool restarting = false;       // waiting out a backoff
  bool deleting = false;
  bool watching = false;
  unsigned pumps = 0;
  unsigned state_writes = 0;  // deferred exits being written to state.json
  std::chrono::steady_clock::time_point started_at{};
  std::unique_ptr<LogWriter> log;    // only when this process pumps the logs (else the keeper)
  std::optional<ReapedExit> reaped;  // a taken-over init's exit, as its reaper reported it
  bool awaiting_reaper = false;      // the exit wait is the keeper's report (deliver_exit)
  reactor::CallbackOp exit_wait;     // the ring's wait for this run's exit, while armed
  Supervisor* owner = nullptr;       // for exit_wait's callback
  std::stop_source* backoff_stop = nullptr;
  Notifier exited;  // stopped for good (or deleted)
  Notifier idle;    // the watcher or a pump ended
  // What meta.json holds beyond the fixed bundle and policy, as last written.
  struct SavedMeta {
    unsigned restart_count = 0;
    bool stopped_by_user = false;
    bool operator==(const SavedMeta&) const = default;
  };
  std::optional<SavedMeta> saved_meta;
};

nlohmann::json ContainerInfo::to_json() const {
  nlohmann::json j{{"id", id},
                   {"bundle", bundle},
                   {"status", status},
                   {"pid", pid},
                   {"restart", restart.to_string()},
                   {"restart_count", restart_count},
                   {"stopped_by_user", stopped_by_user},
                   {"created", format_rfc3339_nano(created_ns)},
                   {"log_path", log_path}};
  if (exit) j["exit"] = exit_to_json(*exit);
  return j;
}

Supervisor::Supervisor(SupervisorOptions options, Factory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

Supervisor::~Supervisor() = default;

Expected<std::unique_ptr<Supervisor>> Supervisor::open(SupervisorOptions options) {
  for (const std::string& dir :
       {options.root, options.root + "/containers", options.root + "/supervised"})
    if (auto made = make_dir(dir); !made) return fail(std::move(made).error());
  auto factory = Factory::create(options.root + "/containers", options.factory);
  if (!factory) return fail(std::move(factory).error().with_context("supervisor"));
  // Exits a crash left in the journal go into their state.json before anything reads those.
  auto exits = ExitGroupCommit::open(options.root + "/exits.journal", options.root);
  if (!exits) return fail(std::move(exits).error().with_context("supervisor"));
  if (auto folded = (*exits)->fold_leftovers(StateStore(options.root + "/containers")); !folded)
    return fail(std::move(folded).error().with_context("supervisor"));
  std::unique_ptr<Supervisor> supervisor(new Supervisor(std::move(options), std::move(*factory)));
  supervisor->exits_ = std::move(*exits);
  return supervisor;
}

Supervisor::Entry* Supervisor::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

std::string Supervisor::supervised_dir(const std::string& id) const {
  return options_.root + "/supervised/" + id;
}

std::string Supervisor::log_path(const std::string& id) const {
  return supervised_dir(id) + "/" + kLogFile;
}

ContainerInfo Supervisor::info(const Entry& e) const {
  ContainerInfo out;
  out.id = e.id;
  out.bundle = e.bundle;
  out.restart = e.tracker.policy();
  out.restart_count = e.tracker.total_restarts();
  out.stopped_by_user = e.stopped_by_user;
  out.exit = e.last_exit;
  out.log_path = log_path(e.id);
  if (e.container) {
    const ContainerState& s = e.container->state();
    out.status = std::string(to_string(s.status));
    out.pid = alive_status(s.status) ? s.init_pid : 0;
    out.created_ns = s.created_ns;
  } else {
    out.status = "creating";
  }
  if (e.restarting) out.status = "restarting";
  return out;
}

void Supervisor::emit(EventType type, const Entry& e, std::optional<ExitRecord> exit) {
  Event event;
  event.type = type;
  event.id = e.id;
  event.time_ns = unix_time_ns();
  event.exit = exit;
  event.restart_count = e.tracker.total_restarts();
  // A subscriber may unsubscribe (or another) while being told: iterate over a copy.
  auto subscribers = subscribers_;
  for (auto& [handle, subscriber] : subscribers) subscriber(event);
}

Expected<void> Supervisor::save_meta(Entry& e) const {
  // Only the restart count and the user's stop change after create. Rewriting an unchanged
  // file is not free: the replaced inode's blocks are freed (a synchronous discard on a
  // filesystem mounted with -o discard), once per exit of a storm.
  const Entry::SavedMeta now{e.tracker.total_restarts(), e.stopped_by_user};
  if (e.saved_meta == now) return {};
  nlohmann::json meta{{"bundle", e.bundle},
                      {"restart", e.tracker.policy().to_string()},
                      {"restart_count", now.restart_count},
                      {"stopped_by_user", now.stopped_by_user}};
  auto written = write_file_atomically(supervised_dir(e.id) + "/" + kMetaFile, meta.dump() + "\n");
  if (written) e.saved_meta = now;
  return written;
}

std::uint64_t Supervisor::subscribe(Subscriber subscriber) {
  subscribers_.emplace(next_subscriber_, std::move(subscriber));
  return next_subscriber_++;
}

void Supervisor::unsubscribe(std::uint64_t handle) {
  subscribers_.erase(handle);
}

// ---- launching ------------------------------------------------------------------------------

reactor::Task<Expected<void>> Supervisor::launch(Entry& e, Config config, bool start) {
  auto made = factory_.create_container(e.id, std::move(config));
  if (!made) co_return fail(std::move(made).error());
  std::unique_ptr<Container> container = std::move(*made);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0)
    co_return fail(Error::from_errno(errno, "create container " + e.id + ": stdout pipe"));
  if (::pipe2(err, O_CLOEXEC) < 0) {
    int saved = errno;
    ::close(out[0]);
    ::close(out[1]);
    co_return fail(Error::from_errno(saved, "create container " + e.id + ": stderr pipe"));
  }
  if (logs_handed_off()) {
    // Handed over before the init exists: whatever it writes has a reader from the start.
    auto handed = options_.log_handoff(e.id, log_path(e.id), out[0], err[0]);
    ::close(out[0]);
    ::close(err[0]);
    out[0] = err[0] = -1;
    if (!handed) {
      ::close(out[1]);
      ::close(err[1]);
      co_return fail(std::move(handed).error().with_context("create container " + e.id));
    }
  }
  ProcessIo io{-1, out[1], err[1]};
  auto created = co_await container->create(io);
  ::close(out[1]);
  ::close(err[1]);
  if (!created) {
    if (out[0] >= 0) ::close(out[0]);
    if (err[0] >= 0) ::close(err[0]);
    co_return fail(std::move(created).error());
  }
  e.container = std::move(container);
  e.last_exit.reset();
  if (!logs_handed_off()) {
    e.pumps += 2;
    scope_.spawn(pump(e, out[0], LogStream::Stdout));
    scope_.spawn(pump(e, err[0], LogStream::Stderr));
  }
  if (start) {
    auto started = co_await e.container->start();
    if (!started) co_return started;
    e.started_at = std::chrono::steady_clock::now();
    release_pidfd_if_possible(e);
    e.container->park_config();  // read back from state.json by a restart, an exec, a delete
  }
  co_return Expected<void>{};
}

reactor::Task<void> Supervisor::pump(Entry& e, int fd, LogStream stream) {
  CriLineSplitter splitter(stream, options_.max_log_line);
  std::vector<LogEntry> entries;
  bool reported = false;
  auto write_all = [&] {
    for (const LogEntry& entry : entries) {
      auto written = e.log->write(entry, unix_time_ns());
      if (!written && !reported) {
        std::fprintf(stderr, "corrald: container %s: %s (further log errors not shown)\n",
                     e.id.c_str(), written.error().what().c_str());
        reported = true;
      }
    }
    entries.clear();
  };
  auto token = shutdown_.get_token();
  char buffer[8192];
  for (;;) {
    auto n = co_await reactor::read(fd, buffer, sizeof buffer).with_stop(token);
    if (!n || *n == 0) break;
    splitter.feed(std::string_view(buffer, *n), entries);
    write_all();
  }
  splitter.finish(entries);
  write_all();
  ::close(fd);
  --e.pumps;
  e.idle.notify_all();
}

void Supervisor::spawn_watch(Entry& e, bool restart_first) {
  e.watching = true;
  if (restart_first)
    scope_.spawn(handle_exit(e, true));
  else
    arm_exit_wait(e);
}

// Every watched container waits here for its run's exit, for as long as it runs: no coroutine
// frame (g++ gives each co_await of a coroutine its own room, for the frame's whole life), one
// operation on the ring in the Entry, or nothing at all when the keeper reports the exit.
void Supervisor::arm_exit_wait(Entry& e) {
  if (shutdown_.stop_requested()) return end_watch(e);  // the container keeps running
  Container& c = *e.container;
  if (c.state().exit) {  // a restart's leftover
    scope_.spawn(handle_exit(e, false));
    return;
  }
  auto adopted = adopted_.find(c.init_pid());
  if (!c.our_child() && adopted != adopted_.end() && adopted->second == &e) {
    // Its reaper (the keeper) tells the status: deliver_exit() goes on from here.
    e.awaiting_reaper = true;
    if (e.reaped) {
      e.awaiting_reaper = false;
      scope_.spawn(handle_exit(e, false));
    }
    return;
  }
  reactor::Operation wait;
  if (int pidfd = c.pidfd(); pidfd >= 0) {
    wait = reactor::poll(pidfd, POLLIN).operation();
  } else if (c.our_child() && c.has_init()) {
    // No descriptor held (released after start): the ring waits on the pid itself, without
    // reaping; settle_exit() records, then reaps.
    wait = reactor::waitid(P_PID, static_cast<id_t>(c.init_pid()), WEXITED | WNOWAIT).operation();
    wait.extra = &discarded_siginfo_;
  } else {
    scope_.spawn(handle_exit(e, false));
    return;
  }
  ++exit_waits_;
  e.exit_wait.start(wait, &Supervisor::on_exit_wait, &e);
}

void Supervisor::on_exit_wait(void* entry, int result) {
  Entry& e = *static_cast<Entry*>(entry);
  Supervisor& self = *e.owner;
  if (--self.exit_waits_ == 0) self.exit_waits_ended_.notify_all();
  // Cancelled at shutdown: the container keeps running. Any other failure of the wait is taken
  // as the end of the run, which settle_exit() finds out the truth of.
  if (result < 0 && self.shutdown_.stop_requested()) return self.end_watch(e);
  self.scope_.spawn(self.handle_exit(e, false));
}

void Supervisor::end_watch(Entry& e) {
  e.watching = false;
  e.idle.notify_all();
}

reactor::Task<void> Supervisor::handle_exit(Entry& e, bool restart_first) {
  if (!restart_first) {
    // A start still in flight writes state.json too: let it finish, so that the exit recorded
    // below is the last word on disk.
    while (e.busy) co_await e.idle.wait();
    auto delay = co_await settle_exit(e);
    if (!delay) {
      (void)save_meta(e);
      e.exited.notify_all();
      co_return end_watch(e);
    }
    e.restarting = true;
    (void)save_meta(e);
    bool slept = co_await back_off(e, *delay);
    if (!slept || e.kill_requested || e.deleting || shutting_down_) {
      e.tracker.cancel_pending();
      if (e.kill_requested) e.stopped_by_user = true;
      (void)save_meta(e);
      e.restarting = false;
      e.exited.notify_all();
      co_return end_watch(e);
    }
  }
  if (!co_await restart(e)) {
    e.exited.notify_all();
    co_return end_watch(e);
  }
  emit(EventType::Restarted, e);
  if (e.kill_requested || e.deleting) (void)e.container->signal(SIGKILL, true);
  arm_exit_wait(e);
}

// The exit of the run handle_exit() was called for: learnt (reaped here, or reported by the
// keeper), recorded, announced; returns the restart policy's backoff, or nothing for no restart.
reactor::Task<std::optional<std::chrono::milliseconds>> Supervisor::settle_exit(Entry& e) {
  Expected<ExitRecord> waited = fail(Error(ErrorCode::SystemError, "not waited"));
  if (e.reaped) {
    ReapedExit record = *e.reaped;
    e.reaped.reset();
    co_await fold_reaped_exit(e, record);
    waited = record.exit;
  } else {
    waited = co_await wait_journaled(e);
  }
  ExitRecord exit;
  if (waited) {
    exit = *waited;
  } else if (e.container->state().exit) {
    exit = *e.container->state().exit;  // reaped by a concurrent cleanup
  } else {
    exit.known = false;
    exit.time_ns = unix_time_ns();
  }
  e.last_exit = exit;
  if (const auto* cgroup = e.container->cgroup_manager()) {
    // The one counter, not the whole stats(): this runs for every exit of a storm.
    auto kills = cgroups::fs::read_keyed_u64_if_exists(cgroup->oom_events_path(), "oom_kill");
    if (kills && kills->value_or(0) > 0) emit(EventType::Oom, e);
  }
  emit(EventType::Exited, e, exit);
  if (e.kill_requested) e.stopped_by_user = true;
  ExitFacts facts;
  facts.status_known = exit.known;
  facts.shell_status = shell_status(exit);
  facts.kill_requested = e.kill_requested || e.deleting || shutting_down_;
  facts.ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - e.started_at);
  co_return e.tracker.on_exit(facts);
}

// Apart from watch(), whose frame every watched container keeps while it runs: a Config and a
// stop source in it would cost each container several kilobytes for a rare event.
reactor::Task<bool> Supervisor::back_off(Entry& e, std::chrono::milliseconds delay) {
  std::stop_source backoff;
  e.backoff_stop = &backoff;
  std::stop_callback on_shutdown(shutdown_.get_token(), [&backoff] { backoff.request_stop(); });
  auto slept = co_await reactor::sleep_for(delay).with_stop(backoff.get_token());
  e.backoff_stop = nullptr;
  co_return static_cast<bool>(slept);
}

reactor::Task<bool> Supervisor::restart(Entry& e) {
  e.busy = true;
  e.restarting = true;
  // The old run's deferred exit goes to its state.json now, while the directory is still
  // that run's: a checkpoint that came later would find the next run's directory.
  while (e.state_writes > 0) co_await e.idle.wait();
  if (auto saved = co_await e.container->save_unsaved(); !saved)
    std::fprintf(stderr, "corrald: restart %s: %s\n", e.id.c_str(), saved.error().what().c_str());
  if (auto unparked = e.container->unpark_config(); !unparked) {
    // Nothing to create the next run from: the container stays stopped, its exit recorded.
    std::fprintf(stderr, "corrald: restart %s failed: %s\n", e.id.c_str(),
                 unparked.error().what().c_str());
    e.busy = false;
    e.restarting = false;
    co_return false;
  }
  Config config = e.container->config();
  auto destroyed = co_await e.container->destroy();
  if (!destroyed)
    std::fprintf(stderr, "corrald: restart %s: %s\n", e.id.c_str(),
                 destroyed.error().what().c_str());
  auto launched = co_await launch(e, std::move(config), true);
  e.busy = false;
  e.restarting = false;
  if (!launched)
    std::fprintf(stderr, "corrald: restart %s failed: %s\n", e.id.c_str(),
                 launched.error().what().c_str());
  co_return static_cast<bool>(launched);
}

reactor::Task<void> Supervisor::wait_idle(Entry& e) {
  while (e.watching || e.pumps > 0 || e.state_writes > 0) co_await e.idle.wait();
}

// ---- the API --------------------------------------------------------------------------------

reactor::Task<Expected<ContainerInfo>> Supervisor::create(CreateRequest request) {
  const std::string context = "create container " + request.id;
  if (shutting_down_)
    co_return fail(Error(ErrorCode::SystemError, context + ": the supervisor is shutting down"));
  if (auto valid = Factory::validate_id(request.id); !valid)
    co_return fail(std::move(valid).error());
  if (find(request.id)) co_return fail(Error(ErrorCode::IdInUse, context + ": the id is in use"));
  auto config = load_config(request.bundle);
  if (!config) co_return fail(std::move(config).error().with_context(context));
  std::string dir = supervised_dir(request.id);
  if (::mkdir(dir.c_str(), 0700) < 0)
    co_return fail(errno == EEXIST ? Error(ErrorCode::IdInUse, context + ": " + dir + " exists")
                                   : Error::from_errno(errno, context + ": mkdir", dir));
  std::unique_ptr<LogWriter> log;
  if (!logs_handed_off()) {
    auto opened = LogWriter::open(dir + "/" + kLogFile, options_.log_rotation);
    if (!opened) {
      std::filesystem::remove_all(dir);
      co_return fail(std::move(opened).error().with_context(context));
    }
    log = std::make_unique<LogWriter>(std::move(*opened));
  }
  auto owned = std::make_unique<Entry>();
  owned->owner = this;
  Entry& e = *owned;
  e.id = request.id;
  e.bundle = config->bundle;
  e.tracker = RestartTracker(request.restart, options_.backoff);
  e.log = std::move(log);
  e.busy = true;
  entries_.emplace(e.id, std::move(owned));
  auto saved = save_meta(e);
  Expected<void> launched = saved;
  if (saved) launched = co_await launch(e, std::move(*config), false);
  e.busy = false;
  e.idle.notify_all();
  if (!launched) {
    co_await wait_idle(e);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    entries_.erase(request.id);
    co_return fail(std::move(launched).error());
  }
  spawn_watch(e, false);
  emit(EventType::Created, e);
  co_return info(e);
}

reactor::Task<Expected<ContainerInfo>> Supervisor::start(std::string id) {
  Entry* e = find(id);
  if (!e) co_return fail(not_found(id, "start"));
  if (e->busy)
    co_return fail(Error(ErrorCode::ContainerNotStopped,
                         "start container " + id + ": busy being created or restarted"));
  if (!e->container || e->container->status() != ContainerStatus::Created)
    co_return fail(Error(ErrorCode::ContainerNotStopped, "start container " + id + ": status is " +
                                                             info(*e).status + ", not created"));
  e->busy = true;
  auto started = co_await e->container->start();
  e->busy = false;
  e->idle.notify_all();
  if (!started) co_return fail(std::move(started).error());
  e->started_at = std::chrono::steady_clock::now();
  release_pidfd_if_possible(*e);
  e->container->park_config();
  emit(EventType::Started, *e);
  co_return info(*e);
}

reactor::Task<Expected<ContainerInfo>> Supervisor::run(CreateRequest request) {
  std::string id = request.id;
  auto created = co_await create(std::move(request));
  if (!created) co_return created;
  co_return co_await start(id);
}

Expected<void> Supervisor::kill(const std::string& id, int signal, bool all) {
  Entry* e = find(id);
  if (!e) return fail(not_found(id, "kill"));
  if (e->restarting) {
    // Between two runs: the kill cancels the pending restart, or stops the new run at once if
    // it is being launched (the watcher checks kill_requested after the launch).
    e->kill_requested = true;
    e->stopped_by_user = true;
    if (e->backoff_stop) e->backoff_stop->request_stop();
    return {};
  }
  if (!e->container || !alive_status(e->container->status()) || e->last_exit)
    return fail(
        Error(ErrorCode::ContainerNotRunning, "kill container " + id + ": it is not running"));
  e->kill_requested = true;
  return e->container->signal(signal, all);
}

reactor::Task<Expected<void>> Supervisor::remove(std::string id, bool force) {
  const std::string context = "delete container " + id;
  Entry* e = find(id);
  if (!e) co_return fail(not_found(id, "delete"));
  if (e->busy || e->deleting)
    co_return fail(Error(ErrorCode::ContainerNotStopped,
                         context + ": busy being created, restarted or deleted"));
  bool alive = e->container && alive_status(e->container->status()) && !e->last_exit;
  if (alive && e->container->status() != ContainerStatus::Created && !force)
    co_return fail(Error(ErrorCode::ContainerNotStopped,
                         context + ": it is " + info(*e).status + " (use force)"));
  e->deleting = true;
  e->kill_requested = true;
  if (e->backoff_stop) e->backoff_stop->request_stop();
  if (alive) {
    if (e->container->status() == ContainerStatus::Paused) (void)e->container->resume();
    if (!e->container->signal(SIGKILL, true)) (void)e->container->signal(SIGKILL, false);
  }
  co_await wait_idle(*e);
  std::erase_if(adopted_, [e](const auto& item) { return item.second == e; });
  auto destroyed = co_await e->container->destroy();
  if (!destroyed) {
    e->deleting = false;
    co_return fail(std::move(destroyed).error());
  }
  std::error_code ignored;
  std::filesystem::remove_all(supervised_dir(id), ignored);
  emit(EventType::Deleted, *e);
  entries_.erase(id);
  co_return Expected<void>{};
}

Expected<ContainerInfo> Supervisor::state(const std::string& id) const {
  Entry* e = find(id);
  if (!e) return fail(not_found(id, "state of"));
  return info(*e);
}

std::vector<ContainerInfo> Supervisor::list() const {
  std::vector<ContainerInfo> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(info(*e));
  return out;
}

std::unordered_set<pid_t> Supervisor::unreaped_inits() const {
  std::unordered_set<pid_t> pids;
  pids.reserve(entries_.size());
  for (const auto& [id, e] : entries_)
    if (e->container && e->container->our_child() && e->container->has_init())
      pids.insert(e->container->init_pid());
  return pids;
}

reactor::Task<Expected<ExitRecord>> Supervisor::wait(std::string id, std::stop_token token) {
  for (;;) {
    Entry* e = find(id);
    if (!e) co_return fail(not_found(id, "wait for"));
    if (!e->watching && !e->busy && !e->restarting) {
      if (e->last_exit) co_return *e->last_exit;
      if (e->container && e->container->state().exit) co_return *e->container->state().exit;
      ExitRecord unknown;
      unknown.known = false;
      co_return unknown;
    }
    if (!co_await e->exited.wait(token))
      co_return fail(Error(ErrorCode::SystemError, "wait for container " + id + ": cancelled"));
  }
}

Expected<nlohmann::json> Supervisor::stats(const std::string& id) const {
  Entry* e = find(id);
  if (!e) return fail(not_found(id, "stats of"));
  nlohmann::json j{{"id", id}};
  const cgroups::Manager* cgroup = e->container ? e->container->cgroup_manager() : nullptr;
  if (!cgroup) return j;
  auto stats = cgroup->stats();
  if (!stats) return fail(std::move(stats).error().with_context("stats of container " + id));
  auto put = [&](const char* name, const std::optional<std::uint64_t>& value) {
    if (value) j[name] = *value;
  };
  put("memory_usage_bytes", stats->memory_usage_bytes);
  put("memory_max_usage_bytes", stats->memory_max_usage_bytes);
  put("cpu_usage_ns", stats->cpu_usage_ns);
  put("pids_current", stats->pids_current);
  put("oom_kill_count", stats->oom_kill_count);
  return j;
}

Expected<LogWriter*> Supervisor::log(const std::string& id) {
  Entry* e = find(id);
  if (!e) return fail(not_found(id, "logs of"));
  if (logs_handed_off())
    return fail(
        Error(ErrorCode::SystemError,
              "logs of container " + id + ": written by another process; read " + log_path(id)));
  return e->log.get();
}

Expected<std::vector<std::string>> Supervisor::log_files(const std::string& id) const {
  Entry* e = find(id);
  if (!e) return fail(not_found(id, "logs of"));
  return log_files_of(log_path(id), options_.log_rotation.rotated_kept);
}

void Supervisor::release_pidfd_if_possible(Entry& e) {
  // Our own child can be waited for by pid on the ring (IORING_OP_WAITID): no descriptor.
  if (e.container->our_child() && reactor::Reactor::require_current().features().native_waitid)
    e.container->release_pidfd();
}

reactor::Task<Expected<ExitRecord>> Supervisor::wait_journaled(Entry& e) {
  Container& c = *e.container;
  if (!c.our_child() || !c.has_init() || c.state().exit) co_return co_await c.wait();
  auto exited = c.peek_exit();
  if (!exited || !*exited) co_return co_await c.wait();
  ReapedExit record;
  record.pid = c.init_pid();
  record.start_time = c.state().init_start_time;
  record.exit = **exited;
  record.container_id = e.id;
  if (!checkpoints_running_) {
    checkpoints_running_ = true;
    scope_.spawn(exits_->run_checkpoints(shutdown_.get_token(), options_.exit_checkpoint_quiet,
                                         [this] { return write_deferred_exits(); }));
  }
  auto seq = co_await exits_->commit(std::move(record));
  if (!seq) co_return co_await c.wait();
  // Durable in the journal: in a storm, state.json waits for its end (write_deferred_exits),
  // so that its writes (a new inode each, and a discard of the old) do not slow the journal's.
  if (exits_->storming() || !deferred_exits_.empty()) {
    co_await c.record_and_reap(**exited, Container::ExitWrite::Deferred);
    deferred_exits_.push_back({e.id, *seq});
  } else {
    co_await c.record_and_reap(**exited, Container::ExitWrite::Unsynced);
    exits_->folded(*seq);
  }
  co_return **exited;
}

reactor::Task<void> Supervisor::write_deferred_exits() {
  for (DeferredExit& pending : std::exchange(deferred_exits_, {})) {
    // Deleted or restarted since: nothing unsaved is left of that run.
    if (Entry* e = find(pending.id); e && e->container) {
      ++e->state_writes;  // a delete or a restart waits for this write
      auto saved = co_await e->container->save_unsaved();
      --e->state_writes;
      e->idle.notify_all();
      if (saved) {
        exits_->folded(pending.seq);
      } else {
        std::fprintf(stderr, "corrald: %s (its exit stays in the journal; tried again later)\n",
                     saved.error().what().c_str());
        deferred_exits_.push_back(std::move(pending));
        exits_->checkpoint_later();
      }
    } else {
      exits_->folded(pending.seq);
    }
  }
}

// ---- exits reaped by another process --------------------------------------------------------

reactor::Task<void> Supervisor::fold_reaped_exit(Entry& e, ReapedExit record) {
  auto it = adopted_.find(record.pid);
  if (it != adopted_.end() && it->second == &e) adopted_.erase(it);
  co_await e.container->record_reaped_exit(record.exit);
  if (options_.exit_folded) options_.exit_folded(record.seq);
}

void Supervisor::deliver_exit(ReapedExit record) {
  auto it = adopted_.find(record.pid);
  if (it != adopted_.end()) {
    Entry& e = *it->second;
    const ContainerState& s = e.container->state();
    if (s.init_pid == record.pid && s.init_start_time == record.start_time) {
      if (e.watching && !s.exit) {
        e.reaped = record;
        if (e.awaiting_reaper) {
          e.awaiting_reaper = false;
          scope_.spawn(handle_exit(e, false));
        }
        return;
      }
      // Found dead at recovery and recorded as unknown: now the true status. Counted as a
      // pump so that a delete waits for the write.
      e.last_exit = record.exit;
      ++e.pumps;
      scope_.spawn([](Supervisor& self, Entry& entry, ReapedExit r) -> reactor::Task<void> {
        co_await self.fold_reaped_exit(entry, r);
        --entry.pumps;
        entry.idle.notify_all();
      }(*this, e, record));
      return;
    }
  }
  if (!recovered_) {
    unclaimed_exits_[record.pid] = record;
    return;
  }
  if (options_.exit_folded) options_.exit_folded(record.seq);  // not a container of ours
}

// ---- recovery and shutdown ------------------------------------------------------------------

reactor::Task<Expected<std::size_t>> Supervisor::recover() {
  std::size_t loaded = 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(options_.root + "/supervised", ec);
  if (ec)
    co_return fail(
        Error::from_errno(ec.value(), "supervisor: recover: list", options_.root + "/supervised"));
  for (const auto& dirent : it) {
    std::string id = dirent.path().filename().string();
    if (find(id)) continue;
    auto report = [&](const std::string& why) {
      std::fprintf(stderr, "corrald: recover %s: %s (left as it is)\n", id.c_str(), why.c_str());
    };
    std::ifstream in(dirent.path() / kMetaFile);
    std::stringstream text;
    text << in.rdbuf();
    auto meta = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || meta.is_discarded() || !meta.is_object()) {
      report("unreadable " + (dirent.path() / kMetaFile).string());
      continue;
    }
    auto policy = RestartPolicy::parse(meta.value("restart", "no"));
    if (!policy) {
      report(policy.error().what());
      continue;
    }
    auto container = factory_.load(id);
    if (!container) {
      report(container.error().what());
      continue;
    }
    std::unique_ptr<LogWriter> log;
    if (!logs_handed_off()) {
      auto opened = LogWriter::open((dirent.path() / kLogFile).string(), options_.log_rotation);
      if (!opened) {
        report(opened.error().what());
        continue;
      }
      log = std::make_unique<LogWriter>(std::move(*opened));
    }
    auto owned = std::make_unique<Entry>();
    owned->owner = this;
    Entry& e = *owned;
    e.id = id;
    e.bundle = meta.value("bundle", "");
    e.tracker = RestartTracker(*policy, options_.backoff);
    e.tracker.set_total_restarts(meta.value("restart_count", 0u));
    e.stopped_by_user = meta.value("stopped_by_user", false);
    e.saved_meta = Entry::SavedMeta{e.tracker.total_restarts(), e.stopped_by_user};
    e.container = std::move(*container);
    e.log = std::move(log);
    e.started_at = std::chrono::steady_clock::now();
    entries_.emplace(id, std::move(owned));
    ++loaded;
    const ContainerState& s = e.container->state();
    if (alive_status(e.container->status())) {
      if (e.container->status() != ContainerStatus::Created) e.container->park_config();
      // Its exit is reported only if our reaper is its parent (it was orphaned by a corrald
      // under the same keeper); one left by a corrald that shut down went to the host's init.
      auto stat = read_proc_stat(s.init_pid);
      if (options_.exit_reaper > 0 && stat && stat->parent == options_.exit_reaper) {
        adopted_[s.init_pid] = &e;
        e.container->release_pidfd();  // its exit comes as a record
      }
      spawn_watch(e, false);
    } else {
      e.last_exit = s.exit;
      auto record = unclaimed_exits_.find(s.init_pid);
      if (!e.last_exit && record != unclaimed_exits_.end() &&
          record->second.start_time == s.init_start_time) {
        // It ended while no corrald ran; its reaper wrote the status down.
        ReapedExit r = record->second;
        unclaimed_exits_.erase(record);
        e.last_exit = r.exit;
        co_await fold_reaped_exit(e, r);
      }
      if (!e.last_exit) {
        ExitRecord unknown;
        unknown.known = false;
        e.last_exit = unknown;
        // Its record may still come (it died just before we looked).
        if (options_.exit_reaper > 0 && s.init_pid > 0) adopted_[s.init_pid] = &e;
      }
      if (e.tracker.restart_at_daemon_start(e.stopped_by_user)) spawn_watch(e, true);
    }
  }
  recovered_ = true;
  for (const auto& [pid, record] : unclaimed_exits_)
    if (options_.exit_folded) options_.exit_folded(record.seq);  // no container of ours
  unclaimed_exits_.clear();
  co_return loaded;
}

reactor::Task<void> Supervisor::shutdown(bool stop_containers) {
  shutting_down_ = true;
  if (stop_containers) {
    for (auto& [id, e] : entries_) {
      if (e->backoff_stop) e->backoff_stop->request_stop();
      if (!e->container || !alive_status(e->container->status()) || e->last_exit) continue;
      e->kill_requested = true;
      if (e->container->status() == ContainerStatus::Paused) (void)e->container->resume();
      (void)e->container->signal(SIGTERM, true);
    }
    auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
    auto any_alive = [&] {
      for (auto& [id, e] : entries_)
        if (e->watching && !e->restarting) return true;
      return false;
    };
    // Only while stopping: a coarse poll of the watchers is fine here.
    while (any_alive() && std::chrono::steady_clock::now() < deadline)
      co_await reactor::sleep_for(std::chrono::milliseconds(50));
    for (auto& [id, e] : entries_)
      if (e->watching && e->container) (void)e->container->signal(SIGKILL, true);
    for (auto& [id, e] : entries_) co_await wait_idle(*e);
  }
  shutdown_.request_stop();
  // Nobody waits for the exits of the containers left running: the waits on the ring are
  // cancelled (their callbacks end the watches), and so are those the keeper would report.
  for (auto& [id, e] : entries_) {
    e->exit_wait.cancel();
    if (e->awaiting_reaper) {
      e->awaiting_reaper = false;
      end_watch(*e);
    }
  }
  while (exit_waits_ > 0) co_await exit_waits_ended_.wait();
  co_await scope_.join();
  // Leave an empty journal behind: the exits folded so far are synced now.
  co_await write_deferred_exits();
  co_await exits_->checkpoint();
}

}  // namespace corral::supervisor
