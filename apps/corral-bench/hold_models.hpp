#pragma once
// Scenarios 3 and 4 (hold, then exit storm): N long-running containers (or children) under one
// supervision model; the harness measures every monitor process of the model while they idle,
// then SIGKILLs them all at once and times until every exit has been observed.
//
// Models:
//   corral-lib        one process: Factory/Container on one reactor (corrald's model)
//   corrald           a private corrald, driven over its control socket: the daemon (and any
//                     keeper or helper process in its tree) measured, the containers not
//   reactor, asio, threads
//                     one process waiting on N plain children (bench/wait_models.hpp): the
//                     supervision cost of each wait model alone, without containers
//   runc+conmon, crun+conmon, corral+conmon (the last only on request)
//                     Podman's model: one Debian conmon per container, the runtime exits after
//                     create/start
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/corral-bench/peers.hpp"

namespace corral::bench {

struct HoldSample {
  int held = 0;                      // containers (children) running during the measurement
  int monitors = 0;                  // monitor processes measured
  double rss_kib = 0, pss_kib = 0;   // summed over the monitors
  int descriptors = 0;               // summed over the monitors
  double idle_cpu_s = 0;             // monitors' CPU over the idle window
  double setup_s = 0;                // starting all of them
  std::vector<double> exit_after_s;  // exit storm: per exit, seconds after the kill began
  int exits_seen = 0;
  // Distinct mount namespaces among the held containers' processes (issue 6's check that they
  // are real containers); -1 for a model that holds plain processes.
  int mount_namespaces = -1;
};

class HoldModel {
 public:
  virtual ~HoldModel() = default;
  virtual std::string name() const = 0;
  virtual std::optional<std::string> unavailable() const { return std::nullopt; }
  // Holds n, measures over idle_s seconds, kills all; nullopt with `error` when it failed.
  virtual std::optional<HoldSample> run(int n, int concurrency, double idle_s,
                                        std::string& error) = 0;
  // External runtimes are capped (see the scenario definitions).
  virtual bool external() const { return false; }
  // Run only when --peers names it (corral under conmon: informative, but it costs a default
  // run as much as runc+conmon does).
  virtual bool on_request() const { return false; }
};

std::vector<std::unique_ptr<HoldModel>> make_hold_models(const PeerContext& context);
std::unique_ptr<HoldModel> make_corrald_hold_model(const PeerContext& context);

// Memory and descriptors of `monitors` now, then their CPU over idle_s seconds of sleep.
void measure_idle(const std::vector<pid_t>& monitors, double idle_s, HoldSample& sample);

// The worker side of the in-process models: `corral-bench --hold-worker MODEL N C BUNDLE ROOT
// INIT`. Says "ready" on stdout once all are held, kills them when stdin becomes readable, then
// prints one JSON line (exits seen and their times). Returns the exit status.
int hold_worker_main(const std::vector<std::string>& args);

}  // namespace corral::bench
