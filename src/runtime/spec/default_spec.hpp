#pragma once
// The config.json `corral spec` writes: a busybox-friendly default in the spirit of `runc spec`.
#include <nlohmann/json.hpp>

namespace corral {

// rootless: add a user namespace mapping root to the caller's euid/egid, no network namespace,
// /sys bind-mounted read-only instead of a new sysfs, no cgroup mount and no resources.
nlohmann::json default_spec(bool rootless);

}  // namespace corral
