#include "runtime/protected_binary.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <mutex>

namespace corral {

namespace {

// glibc 2.36 has wrappers, but <sys/mount.h> and <linux/mount.h> do not mix: call by number.
int open_tree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}
int mount_setattr(int dirfd, const char* path, unsigned flags, mount_attr* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr));
}

Expected<ProtectedBinary> read_only_mount(const std::string& path) {
  int fd = open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "protect the init binary: open_tree", path));
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr) < 0) {
    int err = errno;
    ::close(fd);
    return fail(Error::from_errno(err, "protect the init binary: mount_setattr(read-only)", path));
  }
  return ProtectedBinary{fd, BinaryProtection::ReadOnlyMount};
}

Expected<ProtectedBinary> sealed_memfd(const std::string& path) {
  int source = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (source < 0) return fail(Error::from_errno(errno, "protect the init binary: open", path));
  struct stat st {};
  int fd = -1;
  auto failed = [&](const char* step) {
    int err = errno;
    ::close(source);
    if (fd >= 0) ::close(fd);
    return fail(Error::from_errno(err, std::string("protect the init binary: ") + step, path));
  };
  if (::fstat(source, &st) < 0) return failed("fstat");
  fd = ::memfd_create("corral-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return failed("memfd_create");
  for (off_t copied = 0; copied < st.st_size;) {
    ssize_t n = ::sendfile(fd, source, nullptr, static_cast<std::size_t>(st.st_size - copied));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file shrank under us
      return failed("copy into a memfd");
    }
    copied += n;
  }
  if (::fchmod(fd, 0555) < 0) return failed("fchmod the memfd");
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    return failed("seal the memfd");
  ::close(source);
  return ProtectedBinary{fd, BinaryProtection::SealedMemfd};
}

}  // namespace

Expected<ProtectedBinary> protect_binary(const std::string& path, BinaryProtection protection) {
  return protection == BinaryProtection::ReadOnlyMount ? read_only_mount(path) : sealed_memfd(path);
}

Expected<ProtectedBinary> protected_init_binary(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, ProtectedBinary> made;
  std::lock_guard lock(mutex);
  if (auto it = made.find(path); it != made.end()) return it->second;
  auto binary = read_only_mount(path);
  if (!binary) {
    int err = binary.error().cause().errno_value;
    // Only a missing API (ENOSYS) or one a seccomp policy hides (EPERM) warrants the copy; any
    // other failure (no such file...) is the caller's to see.
    if (err != ENOSYS && err != EPERM) return binary;
    std::fprintf(stderr, "corral: %s; using a sealed memfd copy of the init instead\n",
                 binary.error().what().c_str());
    binary = sealed_memfd(path);
    if (!binary) return binary;
  }
  made.emplace(path, *binary);
  return binary;
}

}  // namespace corral
