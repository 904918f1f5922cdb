#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "connection.hpp"
#include "reactor/ops.hpp"

namespace corrald {

using namespace corral;

namespace {

bool fill_address(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  path.copy(address.sun_path, path.size());
  return true;
}

// Root or the daemon's own user; anybody else gets one error line and is closed.
bool peer_allowed(int fd, std::string& why) {
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

}  // namespace

Expected<ControlServer> ControlServer::listen(std::string path) {
  sockaddr_un address;
  if (!fill_address(path, address))
    return fail(Error(ErrorCode::ConfigInvalid, "control socket " + path + ": path too long"));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Error::from_errno(errno, "control socket: socket", path));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(fd);
      return fail(Error(ErrorCode::ConfigInvalid,
                        "control socket " + path + ": exists and is not a socket"));
    }
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(probe);
    if (live) {
      ::close(fd);
      return fail(Error(ErrorCode::IdInUse,
                        "control socket " + path + ": another corrald is listening there"));
    }
    ::unlink(path.c_str());
  }
  mode_t previous = ::umask(0177);
  int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int saved = errno;
  ::umask(previous);
  if (bound < 0 || ::chmod(path.c_str(), 0600) < 0 || ::listen(fd, 128) < 0) {
    if (bound >= 0) saved = errno;
    ::close(fd);
    return fail(Error::from_errno(saved, "control socket: bind/listen", path));
  }
  return ControlServer(std::move(path), fd);
}

ControlServer::ControlServer(ControlServer&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

reactor::Task<void> ControlServer::connection(int fd, supervisor::Supervisor& supervisor,
                                              std::function<void(bool)> on_shutdown,
                                              std::stop_token stop) {
  std::string why;
  if (!peer_allowed(fd, why)) {
    std::string line = supervisor::error_line(nullptr, "PermissionDenied", "refused: " + why);
    (void)::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    std::fprintf(stderr, "corrald: refused a client: %s\n", why.c_str());
    ::close(fd);
    co_return;
  }
  Connection client(fd, supervisor, std::move(on_shutdown));
  co_await client.serve(stop);
}

reactor::Task<void> ControlServer::serve(supervisor::Supervisor& supervisor,
                                         std::function<void(bool)> on_shutdown,
                                         std::stop_token stop) {
  reactor::TaskScope connections;
  std::stop_callback forward(stop, [&] { connections.request_stop(); });
  while (!stop.stop_requested()) {
    auto accepted = co_await reactor::accept(fd_).with_stop(stop);
    if (!accepted) {
      if (accepted.error().value() == ECANCELED) break;
      // EMFILE and the like: say so and go on; the client was not taken off the queue.
      std::fprintf(stderr, "corrald: accept: %s\n", accepted.error().message().c_str());
      (void)co_await reactor::sleep_for(std::chrono::milliseconds(100)).with_stop(stop);
      continue;
    }
    connections.spawn(connection(*accepted, supervisor, on_shutdown, connections.token()));
  }
  connections.request_stop();
  co_await connections.join();
}

}  // namespace corrald
