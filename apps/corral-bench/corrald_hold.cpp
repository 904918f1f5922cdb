// The hold and exit storm under corrald: a fresh private corrald per size (so that its memory
// is that of holding N, not of every scenario before), N sleeping containers started through
// its socket, C requests in flight. Measured: every process of corrald's tree that is not a
// container (the daemon, a keeper, any helper). The exit storm SIGKILLs every init at once and
// times until corrald has reported each exit on an `events` subscription opened before.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "apps/corral-bench/corrald_process.hpp"
#include "apps/corral-bench/hold_models.hpp"
#include "apps/corral-bench/measure.hpp"

namespace corral::bench {

namespace {

using nlohmann::json;

class CorraldHoldModel : public HoldModel {
 public:
  explicit CorraldHoldModel(const PeerContext& context) : context_(context) {}
  std::string name() const override { return "corrald"; }
  std::optional<std::string> unavailable() const override {
    if (context_.corrald.empty() || ::access(context_.corrald.c_str(), X_OK) != 0)
      return "corrald is not built (no executable " + context_.corrald + ")";
    return std::nullopt;
  }

  std::optional<HoldSample> run(int n, int concurrency, double idle_s,
                                std::string& error) override {
    try {
      CorraldProcess daemon(context_.corrald, context_.init_path, context_.work_dir,
                            "hold-" + std::to_string(serial_++));
      auto sample = hold(daemon, n, concurrency, idle_s, error);
      if (std::string stopped = daemon.stop(); !stopped.empty() && error.empty())
        error = "stopping corrald: " + stopped;
      return sample;
    } catch (const std::exception& e) {
      error = e.what();
      return std::nullopt;
    }
  }

 private:
  std::optional<HoldSample> hold(CorraldProcess& daemon, int n, int concurrency, double idle_s,
                                 std::string& error) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i)
      ids.push_back("hold-corrald-" + std::to_string(::getpid()) + "-" + std::to_string(n) + "-" +
                    std::to_string(i));
    std::vector<DaemonConnection> connections;
    for (int c = 0; c < std::max(1, concurrency); ++c) connections.push_back(daemon.connect());

    HoldSample sample;
    auto t0 = Clock::now();
    request_all(
        connections, n,
        [&](int i) -> json {
          return {{"verb", "run"}, {"id", ids[i]}, {"bundle", context_.sleep_bundle}};
        },
        [&](int i, const json& answer) {
          if (auto why = response_error(answer); why.empty())
            ++sample.held;
          else if (error.empty())
            error = "run " + ids[i] + ": " + why;
        });
    sample.setup_s = seconds_since(t0);

    std::optional<HoldSample> out;
    auto inits = daemon.running_inits();
    if (!inits.empty()) {
      std::set<pid_t> containers;
      std::set<std::string> namespaces;
      for (const auto& [id, pid] : inits) {
        containers.insert(pid);
        std::error_code ec;
        auto ns = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/mnt", ec);
        if (!ec) namespaces.insert(ns.string());
      }
      // The host's own, should an init have shared it, is not a container's.
      std::error_code ec;
      namespaces.erase(std::filesystem::read_symlink("/proc/self/ns/mnt", ec).string());
      sample.mount_namespaces = static_cast<int>(namespaces.size());
      measure_idle(process_tree(daemon.pid(), containers), idle_s, sample);
      exit_storm(daemon, inits, sample);
      out = sample;
    } else if (error.empty()) {
      error = "no container running after " + std::to_string(n) + " runs";
    }
    request_all(
        connections, n,
        [&](int i) -> json {
          return {{"verb", "delete"}, {"id", ids[i]}, {"force", true}};
        },
        [](int, const json&) {});
    return out;
  }

  // SIGKILL to every init at once, from here (as the other models do); an exit counts when
  // corrald's `exited` event for it arrives.
  void exit_storm(CorraldProcess& daemon, const std::vector<std::pair<std::string, pid_t>>& inits,
                  HoldSample& sample) {
    DaemonConnection events = daemon.connect();
    auto subscribed = events.request({{"verb", "events"}, {"tag", "exit-storm"}});
    if (!response_error(subscribed).empty())
      throw std::runtime_error("corrald events: " + response_error(subscribed));
    std::set<std::string> waiting;
    for (const auto& [id, pid] : inits) waiting.insert(id);
    auto t0 = Clock::now();
    for (const auto& [id, pid] : inits) ::kill(pid, SIGKILL);
    while (!waiting.empty() && seconds_since(t0) < 120) {
      auto line = events.next(1000);
      if (!line) {
        if (events.closed()) break;
        continue;
      }
      if (!line->contains("event")) continue;
      const json& event = (*line)["event"];
      if (event.value("type", std::string()) == "exited" &&
          waiting.erase(event.value("id", std::string())))
        sample.exit_after_s.push_back(seconds_since(t0));
    }
    sample.exits_seen = static_cast<int>(inits.size() - waiting.size());
  }

  const PeerContext& context_;
  int serial_ = 0;
};

}  // namespace

std::unique_ptr<HoldModel> make_corrald_hold_model(const PeerContext& context) {
  return std::make_unique<CorraldHoldModel>(context);
}

}  // namespace corral::bench
