#pragma once
// The last step: find the program and execve it. An exec failure is the process's failure, not
// the library's (the seed's commit): procExecFailed {errno, path} goes to the parent, the reason
// to stderr as `exec: "NAME": REASON`, and the init exits 127 (not found) or 126 (found, not
// executable: a directory, no x bit, a bad interpreter).
#include <string>
#include <vector>

#include "reactor/result.hpp"

namespace corral::init {

struct ExecFailure {
  int errno_value = 0;
  int exit_code = 126;
  std::string message;  // the whole stderr line, without '\n'
};

// args0 as is when it has a slash; else the first regular file with an x bit in the
// container's $PATH (from env, not the init's), as Go's exec.LookPath does.
Result<std::string, ExecFailure> find_executable(const std::string& args0,
                                                 const std::vector<std::string>& env);

// What an execve errno means for args0.
ExecFailure describe_exec_failure(const std::string& args0, const std::string& path,
                                  int errno_value);

// Sends procExecFailed on pipe_fd, prints the message, exits with its code.
[[noreturn]] void exit_with_exec_failure(int pipe_fd, const std::string& args0,
                                         const ExecFailure& failure);

// execve(path, args, env); on failure, exit_with_exec_failure.
[[noreturn]] void exec_program(int pipe_fd, const std::string& path,
                               const std::vector<std::string>& args,
                               const std::vector<std::string>& env);

}  // namespace corral::init
