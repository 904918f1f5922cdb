#pragma once
// Children that cost the kernel what a container's init costs at exit, without a runtime or a
// supervisor: each is the init of new PID, mount, network, IPC and UTS namespaces (those of
// `corral spec`'s default config), pivoted into a busybox rootfs with a container's usual
// mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys), then paused until killed. Reaping
// a storm of these with a bare waiter is the kernel's share of a container exit storm
// (namespace and mount teardown), which no supervisor can go below.
#include <sys/types.h>

#include <string>
#include <vector>

namespace corral::bench {

// Starts n such children (our own, to be SIGKILLed and reaped by the caller); stops at the
// first that fails, with the reason in `error`.
std::vector<pid_t> start_namespaced_children(int n, const std::string& rootfs, std::string& error);

}  // namespace corral::bench
