#pragma once
// Namespaces a thread of the runtime enters for a moment, so that a child it clones is born in
// them: the namespaces given by path when a container also gets a new user namespace (the child,
// once in that user namespace, could no longer join namespaces the host owns), as is done for
// the PID namespace (init_launch.hpp).
#include <string>
#include <utility>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corral {

// The type (CLONE_NEW*) of the namespace behind an nsfs fd; `path` names it in errors.
Expected<int> namespace_type(int fd, const std::string& path);

// Namespaces the launching thread itself enters around clone3, and leaves afterwards.
class ThreadNamespaces {
 public:
  ThreadNamespaces() = default;
  ThreadNamespaces(const ThreadNamespaces&) = delete;
  ThreadNamespaces& operator=(const ThreadNamespaces&) = delete;
  ~ThreadNamespaces() { leave(); }

  // Joins the namespace behind `fd` (of CLONE_NEW* `type`: net, ipc, uts, cgroup, or the
  // pid/time namespace of future children), remembering the thread's own to come back to.
  Expected<void> enter(int fd, int type, const std::string& path);
  // Back to the thread's own namespaces; aborts if that fails (it cannot, short of a kernel bug).
  void leave();

 private:
  std::vector<std::pair<int, int>> saved_;
};

}  // namespace corral
