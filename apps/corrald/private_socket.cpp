#include "private_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

namespace corrald {

using namespace corral;

namespace {

// False when `path` does not fit in sun_path.
bool fill_unix_address(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  path.copy(address.sun_path, path.size());
  return true;
}

}  // namespace

Expected<init::UniqueFd> listen_private(const std::string& path, int type,
                                        const std::string& what) {
  sockaddr_un address;
  if (!fill_unix_address(path, address))
    return fail(Error(ErrorCode::ConfigInvalid, what + " " + path + ": path too long"));
  init::UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail(Error::from_errno(errno, what + ": socket", path));
  mode_t previous = ::umask(0177);
  int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  int saved = errno;
  ::umask(previous);
  if (bound < 0 || ::chmod(path.c_str(), 0600) < 0 || ::listen(fd.get(), 128) < 0) {
    if (bound >= 0) {
      saved = errno;
      ::unlink(path.c_str());
    }
    return fail(Error::from_errno(saved, what + ": bind/listen", path));
  }
  return fd;
}

Expected<init::UniqueFd> connect_unix(const std::string& path, int type, const std::string& what) {
  sockaddr_un address;
  if (!fill_unix_address(path, address))
    return fail(Error(ErrorCode::ConfigInvalid, what + " " + path + ": path too long"));
  init::UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail(Error::from_errno(errno, what + ": socket", path));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    return fail(Error::from_errno(errno, what + ": connect", path));
  return fd;
}

bool peer_trusted(int fd, std::string& why) {
  ucred cred{};
  socklen_t length = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) {
    why = "SO_PEERCRED failed";
    return false;
  }
  if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
  why = "uid " + std::to_string(cred.uid) + " (pid " + std::to_string(cred.pid) +
        ") is neither root nor the daemon's user";
  return false;
}

}  // namespace corrald
