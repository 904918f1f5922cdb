#pragma once
// Unix sockets only root or the daemon's own user may use: corrald's control socket and the
// keeper's socket for corrald fronts. The socket file is created mode 0600 (the umask is
// tightened around bind, so it never exists with a wider mode) and every peer's credentials are
// checked with SO_PEERCRED.
#include <string>

#include "init/unique_fd.hpp"
#include "runtime/spec/error.hpp"

namespace corrald {

// A listening socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) at `path`, close-on-exec. `path`
// must not exist; `what` names the socket in errors.
corral::Expected<corral::init::UniqueFd> listen_private(const std::string& path, int type,
                                                        const std::string& what);

// A connection to `path` (blocking, close-on-exec); the errno is kept in the error.
corral::Expected<corral::init::UniqueFd> connect_unix(const std::string& path, int type,
                                                      const std::string& what);

// Root or our own effective uid; otherwise false, with who it was in `why`.
bool peer_trusted(int fd, std::string& why);

}  // namespace corrald
