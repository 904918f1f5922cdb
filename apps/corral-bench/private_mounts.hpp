#pragma once
// The one wrapper every runtime runs under: corral-bench moves itself into a private mount
// namespace (as `unshare -m --propagation private` does) and unmounts /sys/fs/cgroup/unified
// there. Debian's crun 1.8 refuses this host's hybrid layout (hugetlb on the v2 mount) and works
// without it; every peer, corral included, inherits the same view so the comparison stays fair.
#include <string>

namespace corral::bench {

// Returns a description of what was done, for the results file; throws when unshare fails.
std::string enter_private_mount_namespace();

}  // namespace corral::bench
