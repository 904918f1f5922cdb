#include "apps/corral-bench/private_mounts.hpp"

#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace corral::bench {

std::string enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) < 0)
    throw std::runtime_error(std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno));
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    throw std::runtime_error(std::string("make / rprivate: ") + std::strerror(errno));
  std::string text = "private mount namespace (propagation private)";
  if (::umount2("/sys/fs/cgroup/unified", MNT_DETACH) == 0)
    text += ", /sys/fs/cgroup/unified unmounted";
  else
    text += std::string(", /sys/fs/cgroup/unified not unmounted (") + std::strerror(errno) + ")";
  return text;
}

}  // namespace corral::bench
