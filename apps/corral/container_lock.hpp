#pragma once
// ContainerLock: one corral invocation at a time acts on a container.
//
// Any number of corral processes may run on one --root at once (an engine runs create, start,
// kill and delete of many containers in parallel). Each command that changes a container holds
// an exclusive flock(2) on ROOT/#locks/ID while it does: two creates of one id are serialized
// (the second then finds the directory and fails), a delete waits for a start to finish, and so
// on. `state` and `list` take no lock: state.json is replaced atomically, never seen torn.
//
// The lock file exists while its container does: it is taken before the container directory is
// made, and whoever releases it while that directory does not exist unlinks it. A waiter that
// wakes up holding an unlinked file (its inode no longer at the path) tries again, so two
// processes never believe they hold the lock at once. '#' cannot occur in a container id, so the
// lock directory never collides with a container's.
//
// The kernel drops a flock when its holder dies: a `kill -9`ed corral never blocks the others.
#include <sys/types.h>

#include <string>

#include "runtime/spec/error.hpp"

namespace corral::cli {

inline constexpr const char* kLockDirName = "#locks";

class ContainerLock {
 public:
  // Waits (without a bound) until this process holds the lock of container `id` under `root`.
  // Makes ROOT/#locks if needed; the id must be valid (it names a file).
  static Expected<ContainerLock> acquire(const std::string& root, const std::string& id);

  ContainerLock(ContainerLock&& other) noexcept;
  ContainerLock& operator=(ContainerLock&& other) noexcept;
  ContainerLock(const ContainerLock&) = delete;
  ContainerLock& operator=(const ContainerLock&) = delete;
  ~ContainerLock() { release(); }

  // Unlinks the lock file when the container's directory is gone, then unlocks. Idempotent.
  void release();
  bool held() const { return fd_ >= 0; }

 private:
  ContainerLock(int fd, std::string lock_path, std::string container_dir)
      : fd_(fd), lock_path_(std::move(lock_path)), container_dir_(std::move(container_dir)) {}

  int fd_ = -1;
  std::string lock_path_;
  std::string container_dir_;
};

// Which directory ROOT/ID is (device and inode; zero when there is none): a command that drops
// the lock for a while (a foreground `run` waiting for its container) tells by it whether the
// directory it finds afterwards is still the one it made.
struct DirectoryIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const DirectoryIdentity&) const = default;
};
DirectoryIdentity directory_identity(const std::string& root, const std::string& id);

}  // namespace corral::cli
