#pragma once
// The container's root: mount propagation, the rootfs bind mount, pivot_root (or MS_MOVE +
// chroot), then the paths masked or made read-only and the read-only root.
#include <string>
#include <vector>

#include "init/unique_fd.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

// Makes "/" private recursively (or linux.rootfsPropagation), bind-mounts the rootfs on itself
// (so that it is a mount point pivot_root can use) and returns an O_PATH fd of it.
Expected<UniqueFd> prepare_rootfs(const Config& config);

// pivot_root(".", ".") then detaches the old root; with no_pivot, MS_MOVE + chroot.
Expected<void> enter_rootfs(const std::string& rootfs, bool no_pivot);

// After enter_rootfs. A path missing from the image is skipped, as runc does.
Expected<void> mask_paths(const std::vector<std::string>& paths);
Expected<void> make_paths_readonly(const std::vector<std::string>& paths);
Expected<void> make_root_readonly();

}  // namespace corral::init
