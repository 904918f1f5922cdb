#pragma once
// What the v1 and v2 managers do the same way: waiting on the kernel, signalling every process,
// removing directories with retries.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/manager.hpp"

namespace corral::cgroups {

// Writes `value` to the control file at `path`; a failure says `what` was being done.
Expected<void> write_with_context(const std::string& path, std::string_view value,
                                  std::string_view what);

// Polls `done` (which may fail) with short sleeps until it returns true or `timeout` passes;
// `on_poll` runs between polls (e.g. re-writing FROZEN to nudge the v1 freezer). Returns whether
// `done` said true.
Expected<bool> poll_until(const std::function<Expected<bool>()>& done,
                          std::chrono::milliseconds timeout,
                          const std::function<Expected<void>()>& on_poll = {});

// kill_all for any manager: freeze (when possible), signal every pid, thaw if it was thawed.
Expected<void> signal_all_processes(Manager& manager, int signal);

// Removes every directory tree in `dirs`, retrying those that answer EBUSY as `options` says.
Expected<void> remove_dirs_retrying(const std::vector<std::string>& dirs,
                                    const ManagerOptions& options);

// The union of the pids in the cgroup.procs of `dirs`, sorted, unique.
Expected<std::vector<pid_t>> read_procs_union(const std::vector<std::string>& dirs);

}  // namespace corral::cgroups
