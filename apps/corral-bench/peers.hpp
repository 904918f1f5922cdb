#pragma once
// A peer: one way of running containers, measured side by side with the others. Every peer gets
// the same bundle (same config.json, same rootfs) and the same ids scheme. Adding one (corrald,
// once it exists: a client of its control socket) is one more subclass and one line in
// make_peers().
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
  std::string init_path;     // corral-init for the library peer ("" = next to corral-bench)
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
// then CLI), runc, crun.
std::vector<std::unique_ptr<Peer>> make_peers(const PeerContext& context);

std::unique_ptr<Peer> make_floor_peer(const PeerContext& context);
std::unique_ptr<Peer> make_library_peer(const PeerContext& context);
// A runtime with runc's command line: corral's CLI, runc, crun.
std::unique_ptr<Peer> make_cli_peer(const PeerContext& context, std::string name,
                                    std::string binary);

// The binary's path when found in PATH (or as given when it contains a '/'), else "".
std::string find_program(const std::string& name);

}  // namespace corral::bench
