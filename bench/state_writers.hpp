#pragma once
// The two state.json writers compared by corral-microbench and corral-bench's state I/O
// scenario: the reactor's StateStore::save_async and the same write-fsync-rename-fsync(dir)
// sequence done with blocking POSIX calls, as a runtime without a reactor does it.
#include <string>
#include <vector>

#include "runtime/container_state.hpp"

namespace corral::bench {

// `count` containers' states (~2 KiB each once serialized), each with its own directory under a
// fresh directory in /var/tmp (a real disk, not tmpfs); all removed on destruction.
struct StateFiles {
  std::string root;
  std::vector<ContainerState> states;
  explicit StateFiles(int count);
  ~StateFiles();
  StateFiles(const StateFiles&) = delete;
  StateFiles& operator=(const StateFiles&) = delete;
};

// Atomically replaces DIR/state.json with `text`; aborts on failure (a benchmark cannot go on).
void blocking_posix_save(const std::string& dir, const std::string& text);

// Writes every state once, `concurrency` at a time, through the reactor's StateStore on the
// calling thread's reactor (or one made for the call). Aborts on failure.
void reactor_save_all(const StateFiles& files, int concurrency);

}  // namespace corral::bench
