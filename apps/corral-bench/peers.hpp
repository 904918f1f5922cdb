#pragma once
// A peer: one way of running containers, measured side by side with the others. Every peer gets
// the same bundle (same config.json, same rootfs) and the same ids scheme. Adding one is one
// more subclass and one line in make_peers().
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace corral::bench {

struct PeerContext {
  std::string work_dir;      // scratch space of this run (state roots, stderr captures)
  std::string rootfs;        // the busybox rootfs
  std::string true_bundle;   // config.json running /bin/true
  std::string sleep_bundle;  // config.json running /bin/sleep for a long time
  std::string corral_cli;    // path of the corral binary
  std::string corrald;       // path of the corrald binary
  std::string init_path;     // corral-init for the library peer ("" = next to corral-bench)
};

// Youki's hyperfine-style lifecycle: each command timed on its own (the wait for /bin/true to
// exit, between start and delete, is not timed).
struct PhaseTimes {
  double create_s = 0, start_s = 0, delete_s = 0;
};

struct FootprintSample {
  double after_create_bytes = 0;  // peak: the init alone, waiting to exec the user process
  double init_now_bytes = 0;      // memory.stat's exact figure at the same moment
  double after_exit_bytes = 0;    // whole life, /bin/true included
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;
  // Why this peer cannot run here (absent, refuses this host), or nullopt when it can.
  virtual std::optional<std::string> unavailable() const { return std::nullopt; }
  // One process per container operation (a CLI): capped in the spawn storm.
  virtual bool external() const { return false; }

  // Scenario 1: create + start + wait + delete of one /bin/true container. Returns an error
  // message, or "" on success.
  virtual std::string run_once(const std::string& id) = 0;
  // CPU seconds used so far by processes of this peer that this process does not reap (a
  // daemon's): added to the CPU measured through getrusage.
  virtual double unreaped_cpu_s() { return 0; }

  // Scenario 1, youki-style: create, start, (wait), delete of one /bin/true container, with
  // create, start and delete timed apart. Returns an error message, or "" on success.
  virtual bool supports_phases() const { return true; }
  virtual std::string run_phases(const std::string& id, PhaseTimes& times) = 0;

  // Scenario 2: create and start ids.size() /bin/true containers, `concurrency` at once, without
  // waiting for them (run detached). Returns how many started; remove() deletes them.
  virtual bool supports_storm() const { return true; }
  virtual int start_detached(const std::vector<std::string>& ids, int concurrency,
                             std::string& first_error) = 0;
  virtual void remove(const std::vector<std::string>& ids, int concurrency) = 0;

  // Scenario 6: the init's peak memory in the memory cgroup at `cgroup_path`.
  virtual bool supports_footprint() const { return true; }
  virtual std::optional<FootprintSample> footprint(const std::string& id,
                                                   const std::string& cgroup_path,
                                                   std::string& error) = 0;
};

// Every peer, in the order they are measured within a repetition: the floor, corral (library,
// CLI, then corrald), runc, crun.
std::vector<std::unique_ptr<Peer>> make_peers(const PeerContext& context);

std::unique_ptr<Peer> make_floor_peer(const PeerContext& context);
std::unique_ptr<Peer> make_library_peer(const PeerContext& context);
// corral's supervisor daemon: a private corrald driven over its control socket.
std::unique_ptr<Peer> make_corrald_peer(const PeerContext& context);
// A runtime with runc's command line: corral's CLI, runc, crun.
std::unique_ptr<Peer> make_cli_peer(const PeerContext& context, std::string name,
                                    std::string binary);

// The binary's path when found in PATH (or as given when it contains a '/'), else "".
std::string find_program(const std::string& name);

}  // namespace corral::bench
