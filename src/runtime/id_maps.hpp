#pragma once
// The id maps of a new user namespace: the text /proc/PID/uid_map and gid_map take, and the
// parent's writing of them (see init_launch.hpp for when).
#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

// "0 100000 65536\n..." (one line per mapping; the kernel takes the whole map in one write).
std::string id_map_text(const std::vector<IdMapping>& mappings);
// Whether `mappings` give the container id 0 a host id.
bool maps_root(const std::vector<IdMapping>& mappings);
// Writes gid_map then uid_map of process `pid`, denying setgroups first when we are not root.
Expected<void> write_id_maps(pid_t pid, const std::vector<IdMapping>& uid_mappings,
                             const std::vector<IdMapping>& gid_mappings);

}  // namespace corral
