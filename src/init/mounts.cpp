#include "init/mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "init/in_root.hpp"
#include "init/proc_files.hpp"
#include "init/setup_error.hpp"
#include "init/unique_fd.hpp"

namespace corral::init {

namespace {

constexpr unsigned long kPropagationFlags = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

std::string mount_step(const Mount& m) {
  return "mount " + (m.source.empty() ? m.type : m.source) + " to " + m.destination;
}

Error mount_error(int e, const Mount& m) {
  return setup_error(e, mount_step(m), "mount", m.destination);
}

// Reopens the destination after something was mounted on it: the old fd still names the
// covered directory, not the new mount's root.
Expected<UniqueFd> reopen(int root_fd, const Mount& m) {
  int fd = open_in_root(root_fd, m.destination, O_PATH);
  if (fd < 0) return fail(mount_error(-fd, m));
  return UniqueFd(fd);
}

Expected<void> apply_propagation(int root_fd, const Mount& m) {
  if (!(m.propagation_flags & kPropagationFlags)) return {};
  auto target = reopen(root_fd, m);
  if (!target) return fail(std::move(target).error());
  if (::mount(nullptr, fd_path(target->get()).c_str(), nullptr, m.propagation_flags, nullptr) < 0)
    return fail(mount_error(errno, m));
  return {};
}

Expected<void> bind_mount(int root_fd, const Mount& m) {
  struct stat st {};
  if (::stat(m.source.c_str(), &st) < 0) return fail(mount_error(errno, m));
  int target = create_target_in_root(root_fd, m.destination, S_ISDIR(st.st_mode));
  if (target < 0) return fail(mount_error(-target, m));
  UniqueFd target_fd(target);
  if (::mount(m.source.c_str(), fd_path(target).c_str(), nullptr, MS_BIND | (m.flags & MS_REC),
              nullptr) < 0)
    return fail(mount_error(errno, m));
  // A bind mount ignores every flag but MS_REC: the others need a remount of the new mount.
  unsigned long remount_flags = m.flags & ~(MS_BIND | MS_REC | kPropagationFlags);
  if (remount_flags) {
    auto mounted = reopen(root_fd, m);
    if (!mounted) return fail(std::move(mounted).error());
    if (remount_flags & MS_RDONLY) {
      auto ro = remount_readonly(fd_path(mounted->get()), mount_step(m), remount_flags);
      if (!ro) return ro;
    } else if (::mount(nullptr, fd_path(mounted->get()).c_str(), nullptr,
                       MS_BIND | MS_REMOUNT | remount_flags, nullptr) < 0) {
      return fail(mount_error(errno, m));
    }
  }
  return apply_propagation(root_fd, m);
}

// "cgroup" (v1 hosts): a tmpfs at the destination holding, per hierarchy the process belongs
// to, a read-only bind of the process's own cgroup directory (so the container sees its own
// cgroup at e.g. /sys/fs/cgroup/memory, not the host's tree), plus "cpu -> cpu,cpuacct" style
// links. Simplification: a hierarchy is named after the basename of its host mount point.
Expected<void> cgroup_mount(int root_fd, const std::string& rootfs, const Mount& m) {
  int target = mkdir_all_in_root(root_fd, m.destination);
  if (target < 0) return fail(mount_error(-target, m));
  UniqueFd target_fd(target);
  unsigned long base_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (::mount("tmpfs", fd_path(target).c_str(), "tmpfs", base_flags, "mode=755") < 0)
    return fail(mount_error(errno, m));

  std::string mountinfo_text, cgroup_text;
  if (!read_whole_file("/proc/self/mountinfo", mountinfo_text))
    return fail(setup_error(errno, mount_step(m) + ": read /proc/self/mountinfo", "open",
                            "/proc/self/mountinfo"));
  if (!read_whole_file("/proc/self/cgroup", cgroup_text))
    return fail(setup_error(errno, mount_step(m) + ": read /proc/self/cgroup", "open",
                            "/proc/self/cgroup"));
  auto mounts = parse_mountinfo(mountinfo_text);
  for (const auto& membership : parse_proc_cgroup(cgroup_text)) {
    const MountInfo* host = nullptr;
    for (const auto& info : mounts) {
      if (info.mount_point.rfind(rootfs, 0) == 0) continue;  // ours, inside the rootfs
      bool v2 = membership.controllers.empty();
      if (v2 ? info.fs_type != "cgroup2" : info.fs_type != "cgroup") continue;
      bool all = std::all_of(
          membership.controllers.begin(), membership.controllers.end(), [&](const std::string& c) {
            return std::find(info.super_options.begin(), info.super_options.end(), c) !=
                   info.super_options.end();
          });
      if (all && membership.path.rfind(info.root, 0) == 0) {
        host = &info;
        break;
      }
    }
    if (!host) continue;  // a hierarchy the host does not mount: nothing to show
    std::string relative = membership.path.substr(host->root == "/" ? 0 : host->root.size());
    std::string source = host->mount_point + relative;
    std::string name = base_of(host->mount_point);
    Mount sub;
    sub.destination = m.destination + "/" + name;
    sub.type = "bind";
    sub.source = source;
    sub.flags = MS_BIND | MS_RDONLY | base_flags;
    auto bound = bind_mount(root_fd, sub);
    if (!bound) return bound;
    for (const auto& controller : membership.controllers)
      if (controller != name && controller.find('=') == std::string::npos)
        ::symlinkat(name.c_str(), target, controller.c_str());  // best effort, like runc
  }
  if (m.flags & MS_RDONLY) {
    auto mounted = reopen(root_fd, m);
    if (!mounted) return fail(std::move(mounted).error());
    if (::mount(nullptr, fd_path(mounted->get()).c_str(), nullptr,
                MS_REMOUNT | MS_RDONLY | base_flags, nullptr) < 0)
      return fail(mount_error(errno, m));
  }
  return {};
}

}  // namespace

bool is_bind_mount(const Mount& mount) {
  return mount.type == "bind" || (mount.flags & MS_BIND);
}

Expected<void> remount_readonly(const std::string& path, const std::string& step,
                                unsigned long extra_flags) {
  struct statvfs sv {};
  if (::statvfs(path.c_str(), &sv) < 0) return fail(setup_error(errno, step, "statvfs", path));
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | extra_flags;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  flags &= ~(MS_REC | kPropagationFlags);
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) < 0)
    return fail(setup_error(errno, step, "mount", path));
  return {};
}

Expected<void> mount_into_rootfs(int root_fd, const std::string& rootfs, const Mount& m) {
  if (m.destination.empty() || m.destination.front() != '/')
    return fail(setup_failure(mount_step(m) + ": destination must be absolute", m.destination));
  if (is_bind_mount(m)) return bind_mount(root_fd, m);
  if (m.type == "cgroup") return cgroup_mount(root_fd, rootfs, m);

  int target = mkdir_all_in_root(root_fd, m.destination);
  if (target < 0) return fail(mount_error(-target, m));
  UniqueFd target_fd(target);
  unsigned long flags = m.flags & ~kPropagationFlags;
  if (::mount(m.source.empty() ? m.type.c_str() : m.source.c_str(), fd_path(target).c_str(),
              m.type.c_str(), flags, m.data.empty() ? nullptr : m.data.c_str()) < 0) {
    // In a user namespace that does not own its network namespace the kernel refuses sysfs;
    // the host's /sys is bound instead, recursively and with the mount's flags (as runc does).
    if (errno == EPERM && m.type == "sysfs") {
      Mount host_sys = m;
      host_sys.type = "bind";
      host_sys.source = "/sys";
      host_sys.flags = m.flags | MS_BIND | MS_REC;
      return bind_mount(root_fd, host_sys);
    }
    return fail(mount_error(errno, m));
  }
  return apply_propagation(root_fd, m);
}

}  // namespace corral::init
