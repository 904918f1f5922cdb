#include "apps/corral/container_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "runtime/factory.hpp"

namespace corral::cli {

Expected<ContainerLock> ContainerLock::acquire(const std::string& root, const std::string& id) {
  if (auto valid = Factory::validate_id(id); !valid) return fail(std::move(valid).error());
  const std::string lock_dir = root + "/" + kLockDirName;
  std::error_code ec;  // the root's parents too, as Factory makes them (containerd needs it)
  std::filesystem::create_directories(std::filesystem::path(root).parent_path(), ec);
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST)
    return fail(Error::from_errno(errno, "lock container " + id + ": mkdir", root));
  if (::mkdir(lock_dir.c_str(), 0700) < 0 && errno != EEXIST)
    return fail(Error::from_errno(errno, "lock container " + id + ": mkdir", lock_dir));
  const std::string lock_path = lock_dir + "/" + id;
  for (;;) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return fail(Error::from_errno(errno, "lock container " + id + ": open", lock_path));
    int locked;
    do {
      locked = ::flock(fd, LOCK_EX);
    } while (locked < 0 && errno == EINTR);
    if (locked < 0) {
      int saved = errno;
      ::close(fd);
      return fail(Error::from_errno(saved, "lock container " + id + ": flock", lock_path));
    }
    // The previous holder may have unlinked the file (its container was deleted) and another
    // process may have made a new one: only the file still at the path is the lock.
    struct stat held {};
    struct stat current {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path.c_str(), &current) == 0 &&
        held.st_dev == current.st_dev && held.st_ino == current.st_ino)
      return ContainerLock(fd, lock_path, root + "/" + id);
    ::close(fd);
  }
}

ContainerLock::ContainerLock(ContainerLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      lock_path_(std::move(other.lock_path_)),
      container_dir_(std::move(other.container_dir_)) {}

ContainerLock& ContainerLock::operator=(ContainerLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    lock_path_ = std::move(other.lock_path_);
    container_dir_ = std::move(other.container_dir_);
  }
  return *this;
}

void ContainerLock::release() {
  if (fd_ < 0) return;
  // Unlinked while still locked, so that no one can lock this file and think it current.
  if (::access(container_dir_.c_str(), F_OK) < 0 && errno == ENOENT) ::unlink(lock_path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

DirectoryIdentity directory_identity(const std::string& root, const std::string& id) {
  struct stat st {};
  if (::lstat((root + "/" + id).c_str(), &st) < 0) return {};
  return {st.st_dev, st.st_ino};
}

}  // namespace corral::cli
