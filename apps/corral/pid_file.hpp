#pragma once
// --pid-file of create, run and exec.
#include <sys/types.h>

#include <string>

#include "runtime/spec/error.hpp"

namespace corral::cli {

// Writes `pid` to `path` through a temporary name beside it and a rename, so that a reader
// never sees a partial pid (engines poll for this file).
Expected<void> write_pid_file(const std::string& path, pid_t pid);

}  // namespace corral::cli
