#pragma once
// Where a container's group goes, below the cgroup root of every hierarchy.
#include <string>
#include <string_view>

#include "runtime/spec/error.hpp"

namespace corral::cgroups {

// Resolves linux.cgroupsPath to a normalized path relative to the cgroup root, starting with "/"
// ("/corral/abc"):
//   ""             -> <parent>/<container_id>
//   "/a/b"         -> "/a/b"           (absolute: relative to the cgroup root)
//   "a/b"          -> <parent>/a/b     (relative: below the configured parent)
// Refused: a ".." component anywhere, a NUL byte, a result that is the cgroup root itself
// (ConfigInvalid, naming the path), and systemd's "slice:prefix:name" form (Unsupported: corral
// drives cgroupfs directly, not systemd).
Expected<std::string> resolve_cgroup_path(std::string_view cgroups_path, std::string_view parent,
                                          std::string_view container_id);

// True for systemd's "slice:prefix:name" notation.
bool is_systemd_cgroup_path(std::string_view cgroups_path);

// Lexically normalizes an absolute path ("//a/./b/" -> "/a/b"); empty result when it has a ".."
// component, is relative, or holds a NUL byte. Used to check paths recorded in state.json.
std::string normalize_absolute_path(std::string_view path);

}  // namespace corral::cgroups
