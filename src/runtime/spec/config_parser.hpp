#pragma once
// Reading an OCI runtime-spec (1.0-1.2) config.json into corral::Config.
//
// Every error is ConfigInvalid and names the JSON path of the field, e.g.
//   config.json: process.user.uid: expected an unsigned integer, got string
// Unknown properties are ignored, as the spec requires. A known field that asks for something
// corral cannot honour (AppArmor, SELinux, blkio/hugetlb/rdma/network/unified limits, Intel RDT,
// a non-default personality, idmapped mounts, ...) is refused rather than dropped, because
// dropping it would weaken the isolation or the limits the caller asked for.
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
