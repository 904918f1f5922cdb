// corral as a library: Factory and Container on one reactor in the harness's own thread, as an
// embedding program (and corrald, until it has a peer of its own) runs them. No process per
// operation: create, start, wait and destroy are coroutines.
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>

#include "apps/corral-bench/concurrently.hpp"
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/peers.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "runtime/factory.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::bench {

namespace {

using reactor::Task;

class LibraryPeer : public Peer {
 public:
  explicit LibraryPeer(const PeerContext& context) : context_(context) {
    FactoryOptions options;
    options.init_path = context.init_path;
    auto factory = Factory::create(context.work_dir + "/state-corral-lib", options);
    if (!factory) {
      error_ = factory.error().what();
      return;
    }
    factory_ = std::make_unique<Factory>(std::move(*factory));
    auto config = load_config(context.true_bundle);
    if (!config) {
      error_ = config.error().what();
      return;
    }
    config_ = std::move(*config);
  }

  std::string name() const override { return "corral-lib"; }
  std::optional<std::string> unavailable() const override {
    if (!error_.empty()) return error_;
    return std::nullopt;
  }

  std::string run_once(const std::string& id) override { return reactor_.block_on(lifecycle(id)); }

  std::string run_phases(const std::string& id, PhaseTimes& times) override {
    return reactor_.block_on(phases(id, times));
  }

  int start_detached(const std::vector<std::string>& ids, int concurrency,
                     std::string& first_error) override {
    int started = 0;
    reactor_.block_on(
        for_each_concurrently(static_cast<int>(ids.size()), concurrency, [&](int i) -> Task<void> {
          auto c = factory_->create_container(ids[i], config_);
          if (!c) {
            if (first_error.empty()) first_error = c.error().what();
            co_return;
          }
          auto ran = co_await (*c)->run();
          if (!ran) {
            if (first_error.empty()) first_error = ran.error().what();
            co_return;
          }
          ++started;
          held_[ids[i]] = std::move(*c);
        }));
    return started;
  }

  void remove(const std::vector<std::string>& ids, int concurrency) override {
    reactor_.block_on(
        for_each_concurrently(static_cast<int>(ids.size()), concurrency, [&](int i) -> Task<void> {
          auto it = held_.find(ids[i]);
          if (it == held_.end()) co_return;
          auto c = std::move(it->second);
          held_.erase(it);
          co_await c->wait();
          co_await c->destroy();
        }));
  }

  std::optional<FootprintSample> footprint(const std::string& id, const std::string& cgroup_path,
                                           std::string& error) override {
    return reactor_.block_on(measure_footprint(id, cgroup_path, error));
  }

 private:
  Task<std::string> lifecycle(std::string id) {
    auto c = factory_->create_container(id, config_);
    if (!c) co_return c.error().what();
    auto ran = co_await (*c)->run();
    if (!ran) co_return ran.error().what();
    auto exit = co_await (*c)->wait();
    auto destroyed = co_await (*c)->destroy();
    if (!exit) co_return exit.error().what();
    if (!destroyed) co_return destroyed.error().what();
    if (exit->status != 0) co_return "exit status " + std::to_string(exit->status);
    co_return "";
  }

  Task<std::string> phases(std::string id, PhaseTimes& times) {
    auto t0 = Clock::now();
    auto c = factory_->create_container(id, config_);
    if (!c) co_return c.error().what();
    auto created = co_await (*c)->create();
    times.create_s = seconds_since(t0);
    if (!created) {
      co_await (*c)->destroy();
      co_return created.error().what();
    }
    t0 = Clock::now();
    auto started = co_await (*c)->start();
    times.start_s = seconds_since(t0);
    if (!started) {
      co_await (*c)->destroy();
      co_return started.error().what();
    }
    auto exit = co_await (*c)->wait();
    t0 = Clock::now();
    auto destroyed = co_await (*c)->destroy();
    times.delete_s = seconds_since(t0);
    if (!exit) co_return exit.error().what();
    if (!destroyed) co_return destroyed.error().what();
    if (exit->status != 0) co_return "exit status " + std::to_string(exit->status);
    co_return "";
  }

  Task<std::optional<FootprintSample>> measure_footprint(std::string id, std::string cgroup_path,
                                                         std::string& error) {
    Config config = config_;
    config.linux_spec.cgroups_path = cgroup_path;
    auto c = factory_->create_container(id, config);
    if (!c) {
      error = c.error().what();
      co_return std::nullopt;
    }
    FootprintSample sample;
    auto created = co_await (*c)->create();
    if (!created) {
      error = created.error().what();
      co_return std::nullopt;
    }
    auto peak = cgroup_peak_bytes(cgroup_path);
    sample.init_now_bytes = cgroup_user_memory_bytes(cgroup_path).value_or(0);
    auto started = co_await (*c)->start();
    co_await (*c)->wait();
    sample.after_exit_bytes = cgroup_peak_bytes(cgroup_path).value_or(0);
    co_await (*c)->destroy();
    if (!started) {
      error = started.error().what();
      co_return std::nullopt;
    }
    if (!peak) {
      error = "no memory.max_usage_in_bytes for cgroup " + cgroup_path;
      co_return std::nullopt;
    }
    sample.after_create_bytes = *peak;
    co_return sample;
  }

  const PeerContext& context_;
  std::string error_;
  std::unique_ptr<Factory> factory_;
  Config config_;
  reactor::Reactor reactor_;
  std::map<std::string, std::unique_ptr<Container>> held_;
};

}  // namespace

std::unique_ptr<Peer> make_library_peer(const PeerContext& context) {
  return std::make_unique<LibraryPeer>(context);
}

}  // namespace corral::bench
