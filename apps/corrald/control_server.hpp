#pragma once
// ControlServer: the daemon's unix socket. Mode 0600 (the umask is tightened around bind, so the
// socket never exists with a wider mode), and every peer's credentials are checked with
// SO_PEERCRED: root or the daemon's own uid only. Connections are tasks of one scope, joined at
// shutdown.
#include <functional>
#include <stop_token>
#include <string>

#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace corrald {

class ControlServer {
 public:
  // Refuses a path where a live daemon answers; removes a stale socket left by a dead one.
  static corral::Expected<ControlServer> listen(std::string path);
  ControlServer(ControlServer&& other) noexcept;
  ~ControlServer();

  // Accepts until `stop`; then stops every connection and waits for them.
  corral::reactor::Task<void> serve(corral::supervisor::Supervisor& supervisor,
                                    std::function<void(bool)> on_shutdown, std::stop_token stop);
  const std::string& path() const { return path_; }

 private:
  ControlServer(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  corral::reactor::Task<void> connection(int fd, corral::supervisor::Supervisor& supervisor,
                                         std::function<void(bool)> on_shutdown,
                                         std::stop_token stop);
  std::string path_;
  int fd_ = -1;
};

}  // namespace corrald
