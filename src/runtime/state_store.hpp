#pragma once
// StateStore: the state.json files under a factory root, one directory per container.
//
// Writes are atomic: a temp file in the same directory, write, fsync, rename over state.json,
// fsync of the directory. A crash at any point leaves the old or the new file, never a torn
// one. The async API runs every file operation through the reactor; the blocking one is for the
// CLI, which has no loop to keep responsive.
#include <string>

#include "reactor/task.hpp"
#include "runtime/container_state.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

inline constexpr const char* kStateFileName = "state.json";

class StateStore {
 public:
  // `root` is the factory root (e.g. /run/corral); container directories live below it.
  explicit StateStore(std::string root);

  const std::string& root() const { return root_; }
  std::string container_dir(const std::string& id) const;
  std::string state_path(const std::string& id) const;

  // Writes state.json of state.id atomically (the container directory must exist). Each write
  // holds two descriptors for a moment: callers that save thousands at once bound how many run
  // together (reactor::AsyncSemaphore), as the descriptor limit is finite.
  Expected<void> save(const ContainerState& state) const;
  // sync = false: still atomic (temp file renamed over state.json), but neither the file nor
  // its directory is fsync'ed; for a caller whose own journal already holds the change durably
  // and which syncs the filesystem later (supervisor::ExitGroupCommit).
  reactor::Task<Expected<void>> save_async(const ContainerState& state, bool sync = true) const;

  // Missing: ContainerNotExists. Corrupt, truncated or oversized: SystemError naming the file.
  Expected<ContainerState> load(const std::string& id) const;
  reactor::Task<Expected<ContainerState>> load_async(const std::string& id) const;

  static constexpr std::size_t kMaxStateSize = 16 * 1024 * 1024;

 private:
  std::string root_;
};

}  // namespace corral
