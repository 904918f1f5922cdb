#pragma once
// A container directory without a readable state.json: a `corral create` killed before it wrote
// one, or a file damaged outside corral (corral itself replaces state.json atomically).
//
// Such a container cannot be loaded, so `state`, `start`, `kill`, plain `delete` and the others
// fail with explain_load_failure()'s message, which names the way out: `delete --force`, which
// calls remove_unreadable_container() to remove what can still be found without the state.
#include <string>

#include "apps/corral/log.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

// True when ROOT/ID exists (whether or not its state.json does).
bool container_dir_exists(const std::string& root, const std::string& id);

// `load_error` as the caller should see it: unchanged unless the container's directory exists,
// in which case the message says the state is missing or unreadable and that
// `corral delete --force ID` removes what is left.
Error explain_load_failure(const std::string& root, const std::string& id, Error load_error);

// Kills every process of the container's cgroup and removes that cgroup, then removes ROOT/ID.
// Without a state the cgroup is the one a config without linux.cgroupsPath gets
// (CGROUP_PARENT/ID in every hierarchy); a cgroup of a custom cgroupsPath cannot be found and
// is left. What could not be removed is logged and the first such failure returned.
Expected<void> remove_unreadable_container(const std::string& root, const std::string& id,
                                           const std::string& cgroup_parent, Logger& log);

}  // namespace corral::cli
