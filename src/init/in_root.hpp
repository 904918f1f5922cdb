#pragma once
// Path resolution confined to a root directory. Every path of the container (mount targets,
// devices, masked paths) is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
// against an fd of the rootfs, so a symlink in the image ("/mnt -> /etc" or "../../..") is
// followed as if the rootfs were "/", and can never lead to a host path. Mounts then target
// "/proc/self/fd/N" of the resolved fd instead of a path string that could be swapped.
//
// Functions return an fd (>= 0) or -errno: the callers turn errno into a setup error that
// names their step.
#include <sys/types.h>

#include <string>
#include <string_view>

namespace corral::init {

// openat2(root_fd, path, flags | O_CLOEXEC, mode) resolved inside root_fd.
int open_in_root(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// Creates the directory `path` and its missing parents inside root_fd (a dangling symlink on the
// way is followed inside the root and its target created), and returns an O_PATH fd to it.
int mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode = 0755);

// The mount target for `path`: a directory (mkdir_all_in_root) or, when `directory` is false, a
// regular file created empty if missing (its parents as directories). O_PATH fd or -errno.
int create_target_in_root(int root_fd, std::string_view path, bool directory);

// "/proc/self/fd/N": a path naming exactly the object fd refers to.
std::string fd_path(int fd);

// The parent directory and the last component of an absolute path ("/a/b" -> "/a", "b").
std::string parent_of(std::string_view path);
std::string base_of(std::string_view path);

}  // namespace corral::init
