#pragma once
// Reading an OCI runtime-spec (1.0-1.2) config.json into corral::Config.
//
// Every error is ConfigInvalid and names the JSON path of the field, e.g.
//   config.json: process.user.uid: expected an unsigned integer, got string
// Unknown properties are ignored, as the spec requires; null counts as absent. A known field that
// asks for something corral cannot honour is refused rather than dropped, because dropping it
// would weaken the isolation or the limits the caller asked for. Refused when not empty/zero:
//   process: apparmorProfile, selinuxLabel, ioPriority, scheduler, execCPUAffinity
//   mounts[]: uidMappings, gidMappings (idmapped mounts); options idmap, ridmap, tmpcopyup and
//     the recursive attributes rro, rnosuid, ...; data options on a bind mount (ignored by the
//     kernel there)
//   linux: mountLabel, intelRdt, timeOffsets, memoryPolicy, netDevices, personality other than
//     {"domain":"LINUX"} without flags, seccomp.listenerPath/listenerMetadata
//   linux.resources: blockIO, hugepageLimits, network, rdma, unified (this host's controllers
//     are cgroup v1), memory.kernel, memory.kernelTCP, cpu.burst/realtimeRuntime/
//     realtimePeriod/idle
// Also refused: ociVersion other than 1.x, unknown rlimit/capability/namespace/seccomp names,
// duplicate rlimits or namespaces, out-of-range numbers (uid > 2^32-1, oomScoreAdj, swappiness).
#include <string>
#include <string_view>

#include "runtime/spec/config.hpp"
#include "runtime/spec/default_spec.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

// bundle_dir is made absolute; root.path is resolved against it.
Expected<Config> parse_config(std::string_view json_text, const std::string& bundle_dir);

// Reads and parses BUNDLE/config.json; a missing or unreadable file is ConfigInvalid naming it.
Expected<Config> load_config(const std::string& bundle_dir);

// config.json files larger than this are refused before parsing.
inline constexpr std::size_t kMaxConfigSize = 16 * 1024 * 1024;

}  // namespace corral
