#pragma once
// Parsing a config.json mount's "options" into what mount(2) takes: flags to set, flags the
// options explicitly clear, propagation flags, and the filesystem data string.
#include <string>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corral {

struct MountOptions {
  unsigned long flags = 0;
  unsigned long clear_flags = 0;
  unsigned long propagation_flags = 0;
  std::string data;  // the options that are not flags, comma-joined in their order
};

// Later options win over earlier ones ("ro,rw" is read-write). Options corral cannot honour
// (idmapped mounts "idmap"/"ridmap", recursive attributes "rro"/"rnosuid"/..., runc's
// "tmpcopyup") are ConfigInvalid rather than passed on, where the kernel might ignore them.
Expected<MountOptions> parse_mount_options(const std::vector<std::string>& options);

}  // namespace corral
