#pragma once
// Starting a process for a container: clone3(CLONE_PIDFD | namespaces) and, in the child,
// only async-signal-safe system calls before execve (everything is prepared by the parent).
//
// Joining a PID namespace affects only the children of the caller, so it cannot be done in the
// child: the parent's thread joins it (setns on the thread, which only changes the namespace
// of its future children), clones, and returns to its own namespace. This is why every launch
// must happen on one thread at a time per thread (it is: the reactor's owner thread).
//
// User namespaces. A new one (CLONE_NEWUSER in clone_flags) is created by clone3 together with
// the other new namespaces, so that it owns them. Its child starts with no uid or gid mapped, and
// exec as an unmapped user would drop every capability (the kernel keeps them across exec only
// for the namespace's root), so the child waits, before exec, until the parent has written
// /proc/PID/uid_map and gid_map, then becomes root of its namespace (setgroups(0), setresgid(0),
// setresuid(0)) and only then execs the init. Every container uid must therefore map uid 0 and
// gid 0. A joined user namespace (by path) is joined first, before the other namespaces, and the
// child becomes its root the same way. Namespaces joined by path together with a NEW user
// namespace are joined by the parent's thread around clone3 (as for the PID namespace): once in
// its new user namespace the child would have no privilege over namespaces the host owns.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/id_maps.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

struct InitSpawn {
  std::string program;  // the init binary (absolute): named in errors
  int program_fd = -1;  // when >= 0: execveat(program_fd, "", AT_EMPTY_PATH) runs the program
  std::vector<std::string> argv;             // argv[0] included
  std::vector<std::string> env;              // the whole environment
  std::uint64_t clone_flags = 0;             // CLONE_NEW* to create
  std::string pid_namespace_path;            // join this PID namespace (instead of CLONE_NEWPID)
  std::vector<std::string> join_namespaces;  // other namespaces to join, as /proc/.../ns paths
  // With CLONE_NEWUSER: the maps the parent writes before the child may exec (both needed).
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  int stdio[3] = {-1, -1, -1};  // -1: /dev/null
  // fds 3 .. 3+preserved_fds-1 of the caller reach the child as the same numbers (--preserve-fds)
  unsigned preserved_fds = 0;
  int pipe_fd = -1;  // the child's end of the init pipe: becomes fd 3 + preserved_fds (-1: none)
  std::vector<int> extra_fds;  // borrowed; become child_extra_fd(preserved_fds, 0), 1, ... in order
};

// Where spawn_init puts the init pipe and the extra fds in the child.
inline int child_pipe_fd(unsigned preserved_fds) {
  return 3 + static_cast<int>(preserved_fds);
}
inline int child_extra_fd(unsigned preserved_fds, std::size_t index) {
  return child_pipe_fd(preserved_fds) + 1 + static_cast<int>(index);
}

struct SpawnedProcess {
  pid_t pid = 0;
  int pidfd = -1;
};

// Starts the child and waits only until it has exec'd the program (or failed to: then the
// child is reaped and the error names the program and the step: join a namespace, write an id
// map, become root of the user namespace, exec).
Expected<SpawnedProcess> spawn_init(const InitSpawn& spawn);

// The CLONE_NEW* flag of a namespace type and its name under /proc/PID/ns (and back).
std::uint64_t clone_flag(NamespaceType type);
const char* proc_ns_name(NamespaceType type);
std::optional<NamespaceType> namespace_from_proc_name(std::string_view name);

inline constexpr NamespaceType kAllNamespaceTypes[] = {
    NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount,  NamespaceType::Ipc,
    NamespaceType::Uts, NamespaceType::User,    NamespaceType::Cgroup, NamespaceType::Time};
// One bit a type, for sets of namespace types.
constexpr std::uint16_t namespace_bit(NamespaceType type) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(type));
}

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
