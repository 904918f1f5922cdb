#include "apps/corral-bench/hold_models.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "apps/corral-bench/commands.hpp"
#include "apps/corral-bench/measure.hpp"

extern char** environ;

namespace corral::bench {

namespace {

namespace fs = std::filesystem;

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// A model held by a corral-bench worker process (hold_worker.cpp).
class WorkerModel : public HoldModel {
 public:
  WorkerModel(const PeerContext& context, std::string name)
      : context_(context), name_(std::move(name)) {}
  std::string name() const override { return name_; }

  std::optional<HoldSample> run(int n, int concurrency, double idle_s,
                                std::string& error) override {
    int control[2], results[2];
    if (::pipe2(control, O_CLOEXEC) < 0 || ::pipe2(results, O_CLOEXEC) < 0) {
      error = "pipe: " + std::string(std::strerror(errno));
      return std::nullopt;
    }
    std::vector<std::string> argv{"/proc/self/exe",
                                  "--hold-worker",
                                  name_,
                                  std::to_string(n),
                                  std::to_string(concurrency),
                                  context_.sleep_bundle,
                                  context_.work_dir + "/state-hold-" + name_,
                                  context_.init_path};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, control[0], 0);
    posix_spawn_file_actions_adddup2(&actions, results[1], 1);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(control[0]);
    ::close(results[1]);
    HoldSample sample;
    std::optional<HoldSample> out;
    if (rc == 0 && read_line(results[0]) == "ready") {
      measure_idle({pid}, idle_s, sample);
      char go = 'g';
      [[maybe_unused]] ssize_t w = ::write(control[1], &go, 1);
      auto report = nlohmann::json::parse(read_line(results[0]), nullptr, false);
      if (report.is_object()) {
        sample.held = report.value("held", 0);
        sample.setup_s = report.value("setup_s", 0.0);
        sample.exits_seen = report.value("seen", 0);
        sample.exit_after_s = report.value("exit_after_s", std::vector<double>{});
        if (!report.value("error", std::string()).empty()) error = report["error"];
        out = sample;
      } else {
        error = "the hold worker sent no report";
      }
    } else {
      error = rc != 0 ? "cannot start the hold worker" : "the hold worker failed before ready";
    }
    ::close(control[1]);
    ::close(results[0]);
    if (pid > 0) wait_command(pid);
    return out;
  }

 private:
  const PeerContext& context_;
  std::string name_;
};

// Podman's model: one conmon per container; the runtime creates and starts, then exits.
class ConmonModel : public HoldModel {
 public:
  ConmonModel(const PeerContext& context, std::string runtime_name, std::string runtime)
      : context_(context),
        runtime_name_(std::move(runtime_name)),
        runtime_(find_program(runtime)),
        conmon_(find_program("conmon")),
        dir_(context.work_dir + "/conmon-" + runtime_name_) {}

  std::string name() const override { return runtime_name_ + "+conmon"; }
  bool external() const override { return true; }
  bool on_request() const override { return runtime_name_ == "corral"; }
  std::optional<std::string> unavailable() const override {
    if (conmon_.empty()) return std::string("conmon is not installed (apt-get install conmon)");
    if (runtime_.empty()) return runtime_name_ + " is not installed";
    return std::nullopt;
  }

  std::optional<HoldSample> run(int n, int concurrency, double idle_s,
                                std::string& error) override {
    const std::string run_dir = dir_ + "/" + std::to_string(run_serial_++);
    const std::string exits = run_dir + "/exits";
    fs::create_directories(exits);
    fs::create_directories(run_dir + "/sockets");
    auto id = [&](int i) {
      return "cm-" + runtime_name_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    };
    auto file = [&](int i, const char* what) { return run_dir + "/" + id(i) + "." + what; };
    HoldSample sample;
    auto t0 = Clock::now();
    int started = 0;
    for (int batch = 0; batch < n; batch += concurrency) {
      int count = std::min(concurrency, n - batch);
      std::string first_error;
      run_commands(
          count, count,
          [&](int k) {
            int i = batch + k;
            return std::vector<std::string>{conmon_,
                                            "--api-version",
                                            "1",
                                            "-c",
                                            id(i),
                                            "-u",
                                            id(i),
                                            "-n",
                                            id(i),
                                            "-r",
                                            runtime_,
                                            "-b",
                                            context_.sleep_bundle,
                                            "-p",
                                            file(i, "pid"),
                                            "--exit-dir",
                                            exits,
                                            "-l",
                                            "k8s-file:" + file(i, "log"),
                                            "--runtime-arg",
                                            "--root",
                                            "--runtime-arg",
                                            run_dir + "/root",
                                            "--conmon-pidfile",
                                            file(i, "conmon"),
                                            "--socket-dir-path",
                                            run_dir + "/sockets",
                                            "--log-level",
                                            "error",
                                            "--syslog=false"};
          },
          context_.work_dir, first_error);
      // conmon returns at once and creates in the background: the pid file says it is done.
      for (int k = 0; k < count; ++k) {
        for (int tries = 0; tries < 30000 && !fs::exists(file(batch + k, "pid")); ++tries)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      started += run_commands(
          count, count,
          [&](int k) {
            return std::vector<std::string>{runtime_, "--root", run_dir + "/root", "start",
                                            id(batch + k)};
          },
          context_.work_dir, first_error);
      if (!first_error.empty() && error.empty()) error = first_error;
    }
    sample.setup_s = seconds_since(t0);
    sample.held = started;
    std::vector<pid_t> monitors, inits;
    for (int i = 0; i < n; ++i) {
      pid_t m = std::atoi(read_small_file(file(i, "conmon")).c_str());
      pid_t c = std::atoi(read_small_file(file(i, "pid")).c_str());
      if (m > 0) monitors.push_back(m);
      if (c > 0) inits.push_back(c);
    }
    std::optional<HoldSample> out;
    if (started > 0) {
      measure_idle(monitors, idle_s, sample);
      std::set<std::string> ids;
      for (int i = 0; i < n; ++i) ids.insert(id(i));
      exit_storm(exits, ids, inits, sample);
      out = sample;
    } else if (error.empty()) {
      error = "no container started";
    }
    std::string ignored;
    run_commands(
        n, concurrency,
        [&](int i) {
          return std::vector<std::string>{runtime_, "--root",  run_dir + "/root",
                                          "delete", "--force", id(i)};
        },
        context_.work_dir, ignored);
    for (pid_t m : monitors) ::kill(m, SIGKILL);  // a conmon left behind would skew later runs
    std::error_code ec;
    fs::remove_all(run_dir, ec);
    return out;
  }

 private:
  // Kills every init at once; conmon writes DIR/<id> when it has seen its container exit.
  // Only files named after a container count (conmon may write others beside them).
  void exit_storm(const std::string& exits, const std::set<std::string>& ids,
                  const std::vector<pid_t>& inits, HoldSample& sample) {
    int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    ::inotify_add_watch(watch, exits.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
    auto t0 = Clock::now();
    for (pid_t pid : inits) ::kill(pid, SIGKILL);
    std::set<std::string> seen;
    alignas(inotify_event) char buffer[64 * 1024];
    while (seen.size() < inits.size() && seconds_since(t0) < 120) {
      pollfd p{watch, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      ssize_t len = ::read(watch, buffer, sizeof buffer);
      for (ssize_t at = 0; at < len;) {
        auto* event = reinterpret_cast<inotify_event*>(buffer + at);
        if (event->len > 0 && ids.count(event->name) && seen.insert(event->name).second)
          sample.exit_after_s.push_back(seconds_since(t0));
        at += sizeof(inotify_event) + event->len;
      }
    }
    sample.exits_seen = static_cast<int>(seen.size());
    ::close(watch);
  }

  const PeerContext& context_;
  std::string runtime_name_, runtime_, conmon_, dir_;
  int run_serial_ = 0;
};

}  // namespace

void measure_idle(const std::vector<pid_t>& monitors, double idle_s, HoldSample& sample) {
  ProcessMemory memory = memory_of(monitors);
  sample.monitors = static_cast<int>(monitors.size());
  sample.rss_kib = memory.rss_kib;
  sample.pss_kib = memory.pss_kib;
  sample.descriptors = descriptors_of(monitors);
  auto before = thread_run_times(monitors);
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
  sample.idle_cpu_s = run_time_between(before, thread_run_times(monitors));
}

std::vector<std::unique_ptr<HoldModel>> make_hold_models(const PeerContext& context) {
  std::vector<std::unique_ptr<HoldModel>> models;
  models.push_back(std::make_unique<WorkerModel>(context, "corral-lib"));
  models.push_back(make_corrald_hold_model(context));
  models.push_back(std::make_unique<WorkerModel>(context, "reactor"));
  models.push_back(std::make_unique<WorkerModel>(context, "reactor-ns"));
  models.push_back(std::make_unique<WorkerModel>(context, "asio"));
  models.push_back(std::make_unique<WorkerModel>(context, "threads"));
  models.push_back(std::make_unique<ConmonModel>(context, "corral", context.corral_cli));
  models.push_back(std::make_unique<ConmonModel>(context, "runc", "runc"));
  models.push_back(std::make_unique<ConmonModel>(context, "crun", "crun"));
  return models;
}

}  // namespace corral::bench
