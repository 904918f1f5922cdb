#pragma once
// The config's mounts, performed inside the (not yet pivoted) rootfs. Every target is resolved
// in the rootfs (in_root.hpp); the step in an error message is "mount SOURCE to DESTINATION".
#include <string>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

bool is_bind_mount(const Mount& mount);

// root_fd: an O_PATH fd of the rootfs; rootfs: its host path (to skip mounts under it when
// looking for the host's cgroup hierarchies).
Expected<void> mount_into_rootfs(int root_fd, const std::string& rootfs, const Mount& mount);

// Remounts the mount at `path` read-only, keeping the nosuid/nodev/noexec flags it has (a user
// namespace may not clear them).
Expected<void> remount_readonly(const std::string& path, const std::string& step,
                                unsigned long extra_flags = 0);

}  // namespace corral::init
