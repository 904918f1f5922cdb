// corral's supervisor daemon as a peer: one private corrald for the whole run (started on
// first use, stopped when the peer goes), driven over its control socket. Every operation is a
// request on a connection held open, as an engine talking to corrald would; nothing is spawned
// per container. Its CPU is the daemon's own plus the containers it reaped, read from /proc.
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "apps/corral-bench/bundle.hpp"
#include "apps/corral-bench/corrald_process.hpp"
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/peers.hpp"

namespace corral::bench {

namespace {

using nlohmann::json;

class CorraldPeer : public Peer {
 public:
  explicit CorraldPeer(const PeerContext& context) : context_(context) {}
  ~CorraldPeer() override {
    connections_.clear();
    control_.reset();
    if (daemon_) daemon_->stop();
  }

  std::string name() const override { return "corrald"; }

  std::optional<std::string> unavailable() const override {
    if (context_.corrald.empty() || ::access(context_.corrald.c_str(), X_OK) != 0)
      return "corrald is not built (no executable " + context_.corrald + ")";
    if (!probed_) {
      probed_ = true;
      auto* self = const_cast<CorraldPeer*>(this);
      try {
        self->daemon();
        probe_error_ = self->run_once("probe-corrald-" + std::to_string(::getpid()));
      } catch (const std::exception& e) {
        probe_error_ = e.what();
      }
    }
    if (!probe_error_.empty()) return "corrald cannot run a container here: " + probe_error_;
    return std::nullopt;
  }

  std::string run_once(const std::string& id) override {
    return guarded([&] { return lifecycle(id); });
  }

  double unreaped_cpu_s() override {
    return daemon_ ? cpu_with_reaped_children_of(daemon_->daemon_pids()) : 0;
  }

  std::string run_phases(const std::string& id, PhaseTimes& times) override {
    return guarded([&] { return phases(id, times); });
  }

  int start_detached(const std::vector<std::string>& ids, int concurrency,
                     std::string& first_error) override {
    int started = 0;
    std::string failed = guarded([&] {
      request_all(
          connections(concurrency), static_cast<int>(ids.size()),
          [&](int i) -> json {
            return {{"verb", "run"}, {"id", ids[i]}, {"bundle", context_.true_bundle}};
          },
          [&](int i, const json& answer) {
            if (auto error = response_error(answer); error.empty())
              ++started;
            else if (first_error.empty())
              first_error = "run " + ids[i] + ": " + error;
          });
      return std::string();
    });
    if (!failed.empty() && first_error.empty()) first_error = failed;
    return started;
  }

  void remove(const std::vector<std::string>& ids, int concurrency) override {
    guarded([&] {
      request_all(
          connections(concurrency), static_cast<int>(ids.size()),
          [&](int i) -> json {
            return {{"verb", "delete"}, {"id", ids[i]}, {"force", true}};
          },
          [](int, const json&) {});
      return std::string();
    });
  }

  std::optional<FootprintSample> footprint(const std::string& id, const std::string& cgroup_path,
                                           std::string& error) override {
    std::optional<FootprintSample> sample;
    std::string failed = guarded([&] {
      sample = measure_footprint(id, cgroup_path, error);
      return std::string();
    });
    if (!failed.empty()) error = failed;
    return sample;
  }

 private:
  // A daemon that went away (or never came) fails the operation, not the whole run.
  template <class F>
  std::string guarded(F&& operation) {
    try {
      return operation();
    } catch (const std::exception& e) {
      connections_.clear();
      control_.reset();
      return e.what();
    }
  }

  std::string lifecycle(const std::string& id) {
    DaemonConnection& c = control();
    auto ran = c.request({{"verb", "run"}, {"id", id}, {"bundle", context_.true_bundle}});
    if (auto error = response_error(ran); !error.empty()) return "run " + id + ": " + error;
    auto waited = c.request({{"verb", "wait"}, {"id", id}});
    auto deleted = c.request({{"verb", "delete"}, {"id", id}, {"force", true}});
    if (auto error = response_error(waited); !error.empty()) return "wait " + id + ": " + error;
    if (auto error = response_error(deleted); !error.empty()) return "delete " + id + ": " + error;
    int status = waited["exit"].value("shell_status", -1);
    if (status != 0) return "container " + id + ": exit status " + std::to_string(status);
    return "";
  }

  std::string phases(const std::string& id, PhaseTimes& times) {
    DaemonConnection& c = control();
    auto timed = [&](double& seconds, const json& request) {
      auto t0 = Clock::now();
      auto answer = c.request(request);
      seconds = seconds_since(t0);
      return response_error(answer);
    };
    auto discard = [&](const std::string& error) {
      c.request({{"verb", "delete"}, {"id", id}, {"force", true}});
      return error;
    };
    if (auto error = timed(times.create_s,
                           {{"verb", "create"}, {"id", id}, {"bundle", context_.true_bundle}});
        !error.empty())
      return discard("create " + id + ": " + error);
    if (auto error = timed(times.start_s, {{"verb", "start"}, {"id", id}}); !error.empty())
      return discard("start " + id + ": " + error);
    auto waited = c.request({{"verb", "wait"}, {"id", id}});
    if (auto error = response_error(waited); !error.empty())
      return discard("wait " + id + ": " + error);
    if (auto error = timed(times.delete_s, {{"verb", "delete"}, {"id", id}}); !error.empty())
      return discard("delete " + id + ": " + error);
    return "";
  }

  std::optional<FootprintSample> measure_footprint(const std::string& id,
                                                   const std::string& cgroup_path,
                                                   std::string& error) {
    std::string bundle = write_bundle(context_.work_dir + "/bundle-" + id, context_.rootfs,
                                      {"/bin/true"}, cgroup_path);
    struct RemoveBundle {
      std::string dir;
      ~RemoveBundle() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
      }
    } remove_bundle{bundle};
    DaemonConnection& c = control();
    auto created = c.request({{"verb", "create"}, {"id", id}, {"bundle", bundle}});
    if (auto why = response_error(created); !why.empty()) {
      error = "create " + id + ": " + why;
      return std::nullopt;
    }
    FootprintSample sample;
    auto peak = cgroup_peak_bytes(cgroup_path);
    sample.after_create_bytes = peak.value_or(0);
    sample.init_now_bytes = cgroup_user_memory_bytes(cgroup_path).value_or(0);
    auto started = c.request({{"verb", "start"}, {"id", id}});
    if (response_error(started).empty()) c.request({{"verb", "wait"}, {"id", id}});
    sample.after_exit_bytes = cgroup_peak_bytes(cgroup_path).value_or(0);
    c.request({{"verb", "delete"}, {"id", id}, {"force", true}});
    if (auto why = response_error(started); !why.empty()) {
      error = "start " + id + ": " + why;
      return std::nullopt;
    }
    if (!peak) {
      error = "no memory.max_usage_in_bytes for cgroup " + cgroup_path;
      return std::nullopt;
    }
    return sample;
  }

  CorraldProcess& daemon() {
    if (!daemon_)
      daemon_ = std::make_unique<CorraldProcess>(context_.corrald, context_.init_path,
                                                 context_.work_dir, "peer");
    return *daemon_;
  }
  DaemonConnection& control() {
    if (!control_) control_ = std::make_unique<DaemonConnection>(daemon().connect());
    return *control_;
  }
  // Exactly `count` connections: one request in flight on each.
  std::vector<DaemonConnection>& connections(int count) {
    while (static_cast<int>(connections_.size()) > count) connections_.pop_back();
    while (static_cast<int>(connections_.size()) < count)
      connections_.push_back(daemon().connect());
    return connections_;
  }

  const PeerContext& context_;
  std::unique_ptr<CorraldProcess> daemon_;
  std::unique_ptr<DaemonConnection> control_;
  std::vector<DaemonConnection> connections_;
  mutable bool probed_ = false;
  mutable std::string probe_error_;
};

}  // namespace

std::unique_ptr<Peer> make_corrald_peer(const PeerContext& context) {
  return std::make_unique<CorraldPeer>(context);
}

}  // namespace corral::bench
