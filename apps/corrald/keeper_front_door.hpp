#pragma once
// FrontDoor: the keeper's socket for corrald fronts (keeper_protocol.hpp). A front asks the
// keeper to run corrald proper for it and stays attached until that corrald ends for good; one
// front at a time, any other is refused with the reason. Peers other than root or the keeper's
// own user are refused. What to do on a request is the keeper's (the handlers).
#include <array>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "init/unique_fd.hpp"
#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/spec/error.hpp"

namespace corrald {

// How the front wants corrald proper run.
struct ServeRequest {
  std::string exe;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // the front's environment (NOTIFY_SOCKET, PATH, ...)
  std::string cwd;
  std::chrono::milliseconds respawn_delay{1000};
  std::array<corral::init::UniqueFd, 3> stdio;  // corrald's stdin, stdout, stderr
};

// Parses a serve message with its descriptors; the error names what is wrong.
corral::Expected<ServeRequest> parse_serve_request(const std::string& text,
                                                   std::vector<corral::init::UniqueFd>& fds);

class FrontDoor {
 public:
  struct Handlers {
    std::function<corral::Expected<pid_t>(ServeRequest)> serve;  // starts corrald: its pid
    std::function<void(int)> signal;  // the attached front received this signal
    std::function<void()> gone;       // the attached front's end closed
  };

  FrontDoor(corral::init::UniqueFd listener, Handlers handlers)
      : listener_(std::move(listener)), handlers_(std::move(handlers)) {}

  // Accepts fronts until `stop`, then ends every connection and waits for them.
  corral::reactor::Task<void> run(std::stop_token stop);

  bool attached() const { return attached_ >= 0; }
  // Tells the attached front that corrald ended for good with `status`, and lets it go.
  void ended(int status);

 private:
  corral::reactor::Task<void> serve_front(corral::init::UniqueFd link, std::stop_token stop);
  // The first message of a front: its serve request. An error when it sent none or a bad one.
  corral::reactor::Task<corral::Expected<ServeRequest>> receive_request(int fd,
                                                                        std::stop_token stop);

  corral::init::UniqueFd listener_;
  Handlers handlers_;
  int attached_ = -1;  // the attached front's link
  std::stop_source attached_stop_;
};

}  // namespace corrald
