#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "connection.hpp"
#include "private_socket.hpp"
#include "reactor/ops.hpp"

namespace corrald {

using namespace corral;

Expected<ControlServer> ControlServer::listen(std::string path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return fail(Error(ErrorCode::ConfigInvalid,
                        "control socket " + path + ": exists and is not a socket"));
    if (connect_unix(path, SOCK_STREAM, "control socket"))
      return fail(Error(ErrorCode::IdInUse,
                        "control socket " + path + ": another corrald is listening there"));
    ::unlink(path.c_str());
  }
  auto listening = listen_private(path, SOCK_STREAM, "control socket");
  if (!listening) return fail(std::move(listening).error());
  return ControlServer(std::move(path), listening->release());
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
  if (!peer_trusted(fd, why)) {
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
