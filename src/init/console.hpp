#pragma once
// process.terminal: the container's terminal, made by the init inside the container (its own
// devpts instance, so /dev/ptmx must be mounted: call after entering the rootfs). The master
// goes to whoever listens on the console socket (an engine's conmon or shim, or corral run
// itself) with SCM_RIGHTS; the slave becomes the init's stdio and controlling terminal, so the
// container's program inherits both.
#include <optional>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

// Opens /dev/ptmx, unlocks it, sets `size` when given, sends the master over `socket_fd`
// (with the slave's path, /dev/pts/N, as the message's bytes, as runc does), closes the master
// and the socket, and makes the slave fds 0-2 and the controlling terminal of the session the
// init leads.
Expected<void> setup_console(int socket_fd, const std::optional<ConsoleSize>& size);

}  // namespace corral::init
