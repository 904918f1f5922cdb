#pragma once
// /dev inside the rootfs: the default nodes (null, zero, full, random, urandom, tty), the
// config's linux.devices, the /dev/fd and /dev/std* links, /dev/ptmx -> pts/ptmx and /dev/shm.
// Skipped entirely when the config bind-mounts the host's /dev (nothing of ours belongs there).
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

// in_user_ns: mknod is not allowed, so each node is a bind mount of the host's node instead.
Expected<void> setup_dev(int root_fd, const Config& config, bool in_user_ns);

}  // namespace corral::init
