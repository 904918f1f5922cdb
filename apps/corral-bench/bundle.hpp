#pragma once
// The one busybox rootfs every peer runs, and bundles (config.json) around it. The config is
// `corral spec`'s default (runc's: pid, network, ipc, uts and mount namespaces, readonly root)
// with another command; every runtime reads the very same file.
#include <string>
#include <vector>

namespace corral::bench {

class BusyboxRootfs {
 public:
  // Builds DIR/rootfs from the host's /bin/busybox (busybox-static). Throws on failure.
  explicit BusyboxRootfs(std::string dir);
  const std::string& path() const { return rootfs_; }

 private:
  std::string rootfs_;
};

// Writes DIR/config.json running `args` in `rootfs` (absolute); a non-empty `cgroups_path` sets
// linux.cgroupsPath. Returns DIR. Throws on failure.
std::string write_bundle(const std::string& dir, const std::string& rootfs,
                         const std::vector<std::string>& args,
                         const std::string& cgroups_path = {});

}  // namespace corral::bench
