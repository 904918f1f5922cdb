#include "init/in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "init/unique_fd.hpp"

namespace corral::init {

namespace {

constexpr int kMaxSymlinkDepth = 40;

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty() && part != ".") out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

int mkdir_all(int root_fd, std::string_view path, mode_t mode, int depth) {
  if (depth > kMaxSymlinkDepth) return -ELOOP;
  int fd = open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
  if (fd >= 0 || fd != -ENOENT) return fd;

  UniqueFd current(open_in_root(root_fd, "/", O_PATH | O_DIRECTORY));
  if (!current.valid()) return current.release();
  std::string prefix;
  for (const auto& name : components(path)) {
    std::string parent = prefix.empty() ? "/" : prefix;
    prefix += "/" + name;
    int next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (next == -ENOENT) {
      // `current` is where the parent resolved inside the root, so creating `name` there is
      // creating it inside the root.
      if (::mkdirat(current.get(), name.c_str(), mode) < 0) {
        if (errno != EEXIST) return -errno;
        // It exists but did not resolve: a dangling symlink (create its target, in the root),
        // or a directory another container made from the same rootfs in the meantime (EINVAL:
        // not a link; it resolves now).
        char target[PATH_MAX];
        ssize_t n = ::readlinkat(current.get(), name.c_str(), target, sizeof target - 1);
        if (n < 0 && errno != EINVAL) return -EEXIST;
        if (n >= 0) {
          std::string link(target, static_cast<std::size_t>(n));
          std::string resolved = link.front() == '/' ? link : parent + "/" + link;
          int made = mkdir_all(root_fd, resolved, mode, depth + 1);
          if (made < 0) return made;
          ::close(made);
        }
      }
      next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    }
    if (next < 0) return next;
    current.reset(next);
  }
  return current.release();
}

}  // namespace

int open_in_root(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::string p(path.empty() ? std::string_view("/") : path);
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename made the kernel give up resolving safely; try again.
    if (errno != EAGAIN && errno != EINTR) return -errno;
  }
}

int mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode) {
  return mkdir_all(root_fd, path, mode, 0);
}

int create_target_in_root(int root_fd, std::string_view path, bool directory) {
  if (directory) return mkdir_all_in_root(root_fd, path);
  int parent = mkdir_all_in_root(root_fd, parent_of(path));
  if (parent < 0) return parent;
  ::close(parent);
  int fd = open_in_root(root_fd, path, O_PATH);
  if (fd != -ENOENT) return fd;
  int created = open_in_root(root_fd, path, O_CREAT | O_WRONLY, 0644);
  if (created < 0) return created;
  ::close(created);
  return open_in_root(root_fd, path, O_PATH);
}

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

std::string parent_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string base_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace corral::init
