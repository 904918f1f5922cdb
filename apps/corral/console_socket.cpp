#include "apps/corral/console_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::cli {

Expected<int> connect_console_socket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path)
    return fail(Error(ErrorCode::ConfigInvalid,
                      "console socket " + path + ": the path is empty or too long for a socket"));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Error::from_errno(errno, "console socket: socket", path));
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int saved = errno;
    ::close(fd);
    return fail(Error::from_errno(saved, "console socket: connect", path));
  }
  return fd;
}

Expected<void> check_console_options(const std::string& id, bool terminal, bool detached,
                                     const std::string& console_socket) {
  if (terminal && detached && console_socket.empty())
    return fail(Error(ErrorCode::ConfigInvalid,
                      "container " + id +
                          ": cannot allocate tty if corral will detach without setting console "
                          "socket (process.terminal is true; give --console-socket)"));
  if (!terminal && !console_socket.empty())
    return fail(
        Error(ErrorCode::ConfigInvalid, "container " + id +
                                            ": cannot use console socket if the process has no tty "
                                            "(--console-socket given, process.terminal is false)"));
  return {};
}

}  // namespace corral::cli
