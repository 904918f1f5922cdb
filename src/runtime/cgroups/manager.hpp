#pragma once
// corral::cgroups::Manager: puts a container's processes in a control group and sets its limits.
// Two cgroupfs implementations exist: v1 (one hierarchy per controller, V1Manager) and v2 (the
// unified hierarchy, V2Manager). open_manager() picks the one the host mounts; a manager whose
// directories were recorded in state.json is re-opened with open_manager_from_paths().
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cgroups {

enum class Version { V1, V2 };

enum class FreezerState { Thawed, Freezing, Frozen };
std::string_view to_string(FreezerState state);

// What the kernel accounts for the group. A field is empty when its controller or file is absent.
struct Stats {
  std::optional<std::uint64_t> memory_usage_bytes;
  std::optional<std::uint64_t> memory_max_usage_bytes;  // v1 max_usage_in_bytes, v2 memory.peak
  std::optional<std::uint64_t> cpu_usage_ns;
  std::optional<std::uint64_t> pids_current;
  std::optional<std::uint64_t> oom_kill_count;
};

struct ManagerOptions {
  // destroy(): rmdir is retried while the kernel answers EBUSY (it may still hold a group for a
  // moment after its last process died): `remove_attempts` tries in all, sleeping
  // `remove_first_delay` after the first failure and doubling the delay each time.
  int remove_attempts = 6;
  std::chrono::milliseconds remove_first_delay{10};
  // freeze(): how long to wait for the kernel to report the group frozen before thawing it again
  // and failing.
  std::chrono::milliseconds freeze_timeout{10'000};
  // The group's parent directory is corral's own (the default path, <parent>/<container id>,
  // below the root), not one the config named: create() may set cgroup.clone_children on the v1
  // cpuset parent (see V1Manager::prepare_cpuset_parent). Set by open_manager.
  bool parent_is_ours = false;
};

// What a container's cgroup is made from.
struct CgroupSpec {
  std::string container_id;
  std::string cgroups_path;        // the config's linux.cgroupsPath; empty: <parent>/<container_id>
  std::string parent = "/corral";  // where relative and default paths go, below the cgroup root
  std::string mountinfo_path = "/proc/self/mountinfo";  // injectable for tests
  ManagerOptions options;
};

// The key of the unified hierarchy in paths(), as runc's state.json records it.
inline constexpr std::string_view kUnifiedKey = "";

class Manager {
 public:
  virtual ~Manager() = default;

  virtual Version version() const = 0;

  // Makes the group's directories (and, v1, fills an empty cpuset from its parent; v2, enables
  // the available controllers on every ancestor). Existing directories are fine.
  virtual Expected<void> create() = 0;
  // Writes the limits that are set in `resources`; leaves the others as they are.
  virtual Expected<void> apply(const Resources& resources) = 0;
  // Moves a process (and its threads) into the group, in every hierarchy.
  virtual Expected<void> add_process(pid_t pid) = 0;
  // The pids in the group (in any hierarchy), sorted, without duplicates.
  virtual Expected<std::vector<pid_t>> procs() const = 0;
  virtual Expected<Stats> stats() const = 0;

  // freeze() returns once the kernel reports the whole group frozen.
  virtual Expected<void> freeze() = 0;
  virtual Expected<void> thaw() = 0;
  virtual Expected<FreezerState> freezer_state() const = 0;

  // Sends `signal` to every process in the group. The group is frozen meanwhile when it can be,
  // so that a process cannot escape by forking; a group that was frozen stays frozen.
  virtual Expected<void> kill_all(int signal) = 0;

  // Removes the group's directories (and any groups made below them) in every hierarchy.
  // A directory already gone counts as removed. Fails with EBUSY, after retries, while a process
  // is still inside: killing them first is the caller's job (kill_all).
  virtual Expected<void> destroy() = 0;

  // Controller ("memory", "name=systemd"; kUnifiedKey on v2) -> absolute directory of the group.
  virtual std::map<std::string, std::string> paths() const = 0;

  // The file whose events report OOM kills (v1 memory.oom_control, used with cgroup.event_control
  // and an eventfd; v2 memory.events, which raises POLLPRI on change); empty when absent.
  virtual std::string oom_events_path() const = 0;
};

struct CgroupLayout;

// Resolves the group's path and picks v1 or v2 from what the host mounts (spec.mountinfo_path).
Expected<std::unique_ptr<Manager>> open_manager(const CgroupSpec& spec);
// The same with a layout given, e.g. a fake tree in a test.
Expected<std::unique_ptr<Manager>> open_manager(const CgroupSpec& spec, const CgroupLayout& layout);
// Re-opens the group a manager's paths() described (Load from state.json). A single kUnifiedKey
// entry means v2. Every path must be absolute and without "..".
Expected<std::unique_ptr<Manager>> open_manager_from_paths(
    const std::map<std::string, std::string>& paths, ManagerOptions options = {});

}  // namespace corral::cgroups
