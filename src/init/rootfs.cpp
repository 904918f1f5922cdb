#include "init/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "init/in_root.hpp"
#include "init/mounts.hpp"
#include "init/proc_files.hpp"
#include "init/setup_error.hpp"

namespace corral::init {

namespace {

Expected<unsigned long> propagation_flags(const std::string& name) {
  if (name.empty() || name == "rprivate") return MS_REC | MS_PRIVATE;
  if (name == "private") return MS_PRIVATE;
  if (name == "rslave") return MS_REC | MS_SLAVE;
  if (name == "slave") return MS_SLAVE;
  if (name == "rshared") return MS_REC | MS_SHARED;
  if (name == "shared") return MS_SHARED;
  if (name == "runbindable") return MS_REC | MS_UNBINDABLE;
  if (name == "unbindable") return MS_UNBINDABLE;
  return fail(setup_failure("linux.rootfsPropagation: unknown propagation \"" + name + "\""));
}

bool is_under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.rfind(dir, 0) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

// pivot_root refuses a shared parent mount: with "shared" root propagation, make the mount the
// rootfs lives on private (only that one).
Expected<void> make_rootfs_parent_private(const std::string& rootfs) {
  std::string text;
  if (!read_whole_file("/proc/self/mountinfo", text))
    return fail(setup_error(errno, "read /proc/self/mountinfo", "open", "/proc/self/mountinfo"));
  std::string best = "/";
  for (const auto& info : parse_mountinfo(text))
    if (is_under(rootfs, info.mount_point) && info.mount_point.size() > best.size())
      best = info.mount_point;
  if (::mount(nullptr, best.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
    return fail(
        setup_error(errno, "make the rootfs parent mount " + best + " private", "mount", best));
  return {};
}

}  // namespace

Expected<UniqueFd> prepare_rootfs(const Config& config) {
  const std::string& rootfs = config.root.path;
  auto flags = propagation_flags(config.linux_spec.rootfs_propagation);
  if (!flags) return fail(std::move(flags).error());
  if (::mount(nullptr, "/", nullptr, *flags, nullptr) < 0)
    return fail(setup_error(errno, "set mount propagation of /", "mount", "/"));
  if (*flags & MS_SHARED) {
    auto made = make_rootfs_parent_private(rootfs);
    if (!made) return fail(std::move(made).error());
  }
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return fail(setup_error(errno, "bind mount rootfs " + rootfs, "mount", rootfs));
  int fd = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(setup_error(errno, "open rootfs " + rootfs, "open", rootfs));
  return UniqueFd(fd);
}

Expected<void> enter_rootfs(const std::string& rootfs, bool no_pivot) {
  if (no_pivot) {
    if (::chdir(rootfs.c_str()) < 0)
      return fail(setup_error(errno, "chdir to rootfs " + rootfs, "chdir", rootfs));
    if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
      return fail(setup_error(errno, "move rootfs " + rootfs + " to /", "mount", rootfs));
    if (::chroot(".") < 0) return fail(setup_error(errno, "chroot to " + rootfs, "chroot", rootfs));
    if (::chdir("/") < 0) return fail(setup_error(errno, "chdir to /", "chdir", "/"));
    return {};
  }
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root.valid()) return fail(setup_error(errno, "open old root /", "open", "/"));
  UniqueFd new_root(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!new_root.valid()) return fail(setup_error(errno, "open rootfs " + rootfs, "open", rootfs));
  if (::fchdir(new_root.get()) < 0)
    return fail(setup_error(errno, "chdir to rootfs " + rootfs, "fchdir", rootfs));
  // pivot_root(".", "."): the old root ends up stacked on the new one; no put_old directory
  // needs to exist in the image.
  if (::syscall(SYS_pivot_root, ".", ".") < 0)
    return fail(setup_error(errno, "pivot_root to " + rootfs, "pivot_root", rootfs));
  if (::fchdir(old_root.get()) < 0)
    return fail(setup_error(errno, "chdir to the old root", "fchdir", "/"));
  // Slave first, so detaching the old root does not propagate the unmount to the host.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
    return fail(setup_error(errno, "make the old root a slave", "mount", "/"));
  if (::umount2(".", MNT_DETACH) < 0)
    return fail(setup_error(errno, "detach the old root", "umount2", "/"));
  if (::chdir("/") < 0) return fail(setup_error(errno, "chdir to /", "chdir", "/"));
  return {};
}

Expected<void> mask_paths(const std::vector<std::string>& paths) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return fail(setup_error(errno, "open /", "open", "/"));
  for (const auto& path : paths) {
    std::string step = "mask path " + path;
    int fd = open_in_root(root.get(), path, O_PATH);
    if (fd == -ENOENT) continue;
    if (fd < 0) return fail(setup_error(-fd, step, "open", path));
    UniqueFd target(fd);
    struct stat st {};
    if (::fstat(fd, &st) < 0) return fail(setup_error(errno, step, "stat", path));
    int rc = S_ISDIR(st.st_mode)
                 ? ::mount("tmpfs", fd_path(fd).c_str(), "tmpfs", MS_RDONLY, "size=0,mode=0")
                 : ::mount("/dev/null", fd_path(fd).c_str(), nullptr, MS_BIND, nullptr);
    if (rc < 0) return fail(setup_error(errno, step, "mount", path));
  }
  return {};
}

Expected<void> make_paths_readonly(const std::vector<std::string>& paths) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return fail(setup_error(errno, "open /", "open", "/"));
  for (const auto& path : paths) {
    std::string step = "make path " + path + " read-only";
    int fd = open_in_root(root.get(), path, O_PATH);
    if (fd == -ENOENT) continue;
    if (fd < 0) return fail(setup_error(-fd, step, "open", path));
    UniqueFd target(fd);
    if (::mount(fd_path(fd).c_str(), fd_path(fd).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return fail(setup_error(errno, step, "mount", path));
    int mounted = open_in_root(root.get(), path, O_PATH);
    if (mounted < 0) return fail(setup_error(-mounted, step, "open", path));
    UniqueFd mounted_fd(mounted);
    auto ro = remount_readonly(fd_path(mounted), step);
    if (!ro) return ro;
  }
  return {};
}

Expected<void> make_root_readonly() {
  return remount_readonly("/", "remount / read-only");
}

}  // namespace corral::init
