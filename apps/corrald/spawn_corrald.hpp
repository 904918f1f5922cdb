#pragma once
// Starting a corrald process (the keeper from a front, corrald proper from the keeper): the
// binary with given arguments, given descriptors at given numbers, every signal unblocked and
// at its default, optionally in another directory, with another environment and in a session
// of its own.
#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corrald {

struct PassedFd {
  int from;  // ours
  int to;    // the number the new process finds it at (not close-on-exec there)
};

// `args` includes argv[0]; `cwd` empty keeps ours, `env` null passes ours. Every other
// descriptor of ours must be close-on-exec (main marks them all at start).
corral::Expected<pid_t> spawn_corrald(const std::string& exe, const std::vector<std::string>& args,
                                      std::span<const PassedFd> passed, const std::string& cwd,
                                      const std::vector<std::string>* env, bool new_session);

// The path of our own binary (so that ps names the new process corrald, not "exe").
std::string own_executable();

}  // namespace corrald
