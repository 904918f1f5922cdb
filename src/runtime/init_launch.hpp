#pragma once
// Starting a process for a container: clone3(CLONE_PIDFD | namespaces) and, in the child,
// only async-signal-safe system calls before execve (everything is prepared by the parent).
//
// Joining a PID namespace affects only the children of the caller, so it cannot be done in the
// child: the parent's thread joins it (setns on the thread, which only changes the namespace
// of its future children), clones, and returns to its own namespace. This is why every launch
// must happen on one thread at a time per thread (it is: the reactor's owner thread).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

struct InitSpawn {
  std::string program;                       // the init binary (absolute)
  std::vector<std::string> argv;             // argv[0] included
  std::vector<std::string> env;              // the whole environment
  std::uint64_t clone_flags = 0;             // CLONE_NEW* to create
  std::string pid_namespace_path;            // join this PID namespace (instead of CLONE_NEWPID)
  std::vector<std::string> join_namespaces;  // other namespaces to join, as /proc/.../ns paths
  int stdio[3] = {-1, -1, -1};               // -1: /dev/null
  // fds 3 .. 3+preserved_fds-1 of the caller reach the child as the same numbers (--preserve-fds)
  unsigned preserved_fds = 0;
  int pipe_fd = -1;  // the child's end of the init pipe: becomes fd 3 + preserved_fds
  // process.terminal: a connected AF_UNIX socket, given to the child as fd 3 + preserved_fds + 2
  // (after the pipe and the exec report) for the init to send the pty master over; -1: none.
  int console_socket_fd = -1;
};

// Where spawn_init puts the init pipe and the console socket in the child.
inline int child_pipe_fd(unsigned preserved_fds) {
  return 3 + static_cast<int>(preserved_fds);
}
inline int child_console_socket_fd(unsigned preserved_fds) {
  return child_pipe_fd(preserved_fds) + 2;
}

struct SpawnedProcess {
  pid_t pid = 0;
  int pidfd = -1;
};

// Starts the child and waits only until it has exec'd the program (or failed to: then the
// child is reaped and the error names the program).
Expected<SpawnedProcess> spawn_init(const InitSpawn& spawn);

// The CLONE_NEW* flag of a namespace type and its name under /proc/PID/ns.
std::uint64_t clone_flag(NamespaceType type);
const char* proc_ns_name(NamespaceType type);

// Runs `clone_fn` with the calling thread's PID namespace for children set to `ns_fd` (-1: no
// change), restoring it afterwards.
template <class F>
auto with_pid_namespace_for_children(int ns_fd, F&& clone_fn) -> Expected<decltype(clone_fn())>;

namespace detail {
Expected<int> enter_pid_namespace_for_children(int ns_fd);  // returns the fd to restore with
void leave_pid_namespace_for_children(int restore_fd);
}  // namespace detail

template <class F>
auto with_pid_namespace_for_children(int ns_fd, F&& clone_fn) -> Expected<decltype(clone_fn())> {
  if (ns_fd < 0) return clone_fn();
  auto restore = detail::enter_pid_namespace_for_children(ns_fd);
  if (!restore) return fail(std::move(restore).error());
  auto result = clone_fn();
  detail::leave_pid_namespace_for_children(*restore);
  return result;
}

}  // namespace corral
