#pragma once
// --console-socket PATH: the AF_UNIX stream socket where an engine (conmon, a containerd shim)
// waits for the pty master of a container with process.terminal. corral connects to it and
// hands the connected socket to the init, which sends the master itself (src/init/console.hpp).
#include <string>

#include "runtime/spec/error.hpp"

namespace corral::cli {

// The connected socket (close-on-exec), owned by the caller.
Expected<int> connect_console_socket(const std::string& path);

// runc's rules for a terminal and a console socket, checked before anything is made:
// detached with a terminal needs a socket; a socket without a terminal is refused.
Expected<void> check_console_options(const std::string& id, bool terminal, bool detached,
                                     const std::string& console_socket);

}  // namespace corral::cli
