// A runtime driven through runc's command line, one process per operation, as engines do:
// corral's own CLI, runc and crun. Each has its own state root under the run's work directory.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "apps/corral-bench/bundle.hpp"
#include "apps/corral-bench/commands.hpp"
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/peers.hpp"

namespace corral::bench {

namespace {

pid_t read_pid_file(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

class CliPeer : public Peer {
 public:
  CliPeer(const PeerContext& context, std::string name, std::string binary)
      : context_(context),
        name_(std::move(name)),
        binary_(find_program(binary)),
        root_(context.work_dir + "/state-" + name_) {
    std::filesystem::create_directories(root_);
  }

  std::string name() const override { return name_; }
  bool external() const override { return true; }

  std::optional<std::string> unavailable() const override {
    if (binary_.empty()) return name_ + " is not installed (not found in PATH)";
    // One real container tells whether it accepts this host (crun 1.8 may refuse cgroups).
    if (!probed_) {
      probed_ = true;
      probe_error_ =
          const_cast<CliPeer*>(this)->run_once("probe-" + name_ + "-" + std::to_string(::getpid()));
    }
    if (!probe_error_.empty()) return name_ + " refuses to run a container here: " + probe_error_;
    return std::nullopt;
  }

  std::string run_once(const std::string& id) override {
    auto result =
        run_command(command({"run", "--bundle", context_.true_bundle, id}), context_.work_dir);
    if (result.status == 0) return "";
    run_command(command({"delete", "--force", id}), context_.work_dir);
    return "run: exit " + std::to_string(result.status) + ": " + result.stderr_text;
  }

  std::string run_phases(const std::string& id, PhaseTimes& times) override {
    const std::string pid_file = context_.work_dir + "/" + id + ".pid";
    auto t0 = Clock::now();
    auto created = run_command(
        command({"create", "--bundle", context_.true_bundle, "--pid-file", pid_file, id}),
        context_.work_dir);
    times.create_s = seconds_since(t0);
    if (created.status != 0) {
      run_command(command({"delete", "--force", id}), context_.work_dir);
      return "create: exit " + std::to_string(created.status) + ": " + created.stderr_text;
    }
    // Watched from before start, so that an init that exits at once is still seen to exit.
    ProcessWatch init(read_pid_file(pid_file));
    std::filesystem::remove(pid_file);
    t0 = Clock::now();
    auto started = run_command(command({"start", id}), context_.work_dir);
    times.start_s = seconds_since(t0);
    if (started.status != 0) {
      run_command(command({"delete", "--force", id}), context_.work_dir);
      return "start: exit " + std::to_string(started.status) + ": " + started.stderr_text;
    }
    if (!init.wait_exit(10'000)) {
      run_command(command({"delete", "--force", id}), context_.work_dir);
      return "/bin/true still running 10 s after start";
    }
    t0 = Clock::now();
    auto deleted = run_command(command({"delete", id}), context_.work_dir);
    times.delete_s = seconds_since(t0);
    if (deleted.status != 0) {
      run_command(command({"delete", "--force", id}), context_.work_dir);
      return "delete: exit " + std::to_string(deleted.status) + ": " + deleted.stderr_text;
    }
    return "";
  }

  int start_detached(const std::vector<std::string>& ids, int concurrency,
                     std::string& first_error) override {
    return run_commands(
        static_cast<int>(ids.size()), concurrency,
        [&](int i) {
          return command({"run", "--detach", "--bundle", context_.true_bundle, ids[i]});
        },
        context_.work_dir, first_error);
  }

  void remove(const std::vector<std::string>& ids, int concurrency) override {
    std::string ignored;
    run_commands(
        static_cast<int>(ids.size()), concurrency,
        [&](int i) {
          return command({"delete", "--force", ids[i]});
        },
        context_.work_dir, ignored);
  }

  std::optional<FootprintSample> footprint(const std::string& id, const std::string& cgroup_path,
                                           std::string& error) override {
    std::string bundle = write_bundle(context_.work_dir + "/bundle-" + id, context_.rootfs,
                                      {"/bin/true"}, cgroup_path);
    FootprintSample sample;
    auto created = run_command(command({"create", "--bundle", bundle, id}), context_.work_dir);
    if (created.status != 0) {
      error = "create: exit " + std::to_string(created.status) + ": " + created.stderr_text;
      std::filesystem::remove_all(bundle);
      return std::nullopt;
    }
    auto peak = cgroup_peak_bytes(cgroup_path);
    sample.after_create_bytes = peak.value_or(0);
    sample.init_now_bytes = cgroup_user_memory_bytes(cgroup_path).value_or(0);
    auto started = run_command(command({"start", id}), context_.work_dir);
    // /bin/true exits at once; the cgroup outlives it until delete. Bounded wait.
    for (int i = 0; i < 2000 && started.status == 0 && !cgroup_empty(cgroup_path); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    sample.after_exit_bytes = cgroup_peak_bytes(cgroup_path).value_or(0);
    run_command(command({"delete", "--force", id}), context_.work_dir);
    std::filesystem::remove_all(bundle);
    if (!peak) {
      error = "no memory.max_usage_in_bytes for cgroup " + cgroup_path;
      return std::nullopt;
    }
    if (started.status != 0) {
      error = "start: exit " + std::to_string(started.status) + ": " + started.stderr_text;
      return std::nullopt;
    }
    return sample;
  }

 private:
  std::vector<std::string> command(std::vector<std::string> args) const {
    std::vector<std::string> argv{binary_, "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  const PeerContext& context_;
  std::string name_, binary_, root_;
  mutable bool probed_ = false;
  mutable std::string probe_error_;
};

}  // namespace

std::unique_ptr<Peer> make_cli_peer(const PeerContext& context, std::string name,
                                    std::string binary) {
  return std::make_unique<CliPeer>(context, std::move(name), std::move(binary));
}

}  // namespace corral::bench
