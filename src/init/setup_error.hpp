#pragma once
// Errors of the init's setup steps. The message names the step and the object, then the cause
// in lower case as Go (and so runc's users) print it: "mount proc to /proc: permission denied".
#include <string>

#include "runtime/spec/error.hpp"

namespace corral::init {

// strerror() with a lower-case first letter ("no such file or directory").
std::string errno_text(int errno_value);

// "STEP: <errno text>", cause {errno, operation, path}.
Error setup_error(int errno_value, const std::string& step, std::string operation,
                  std::string path);

// A setup failure that is not a system call's ("seccomp: unknown action ...").
Error setup_failure(std::string message, std::string path = {});

}  // namespace corral::init
