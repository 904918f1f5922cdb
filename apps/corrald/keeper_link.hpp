#pragma once
// KeeperLink: corrald's end of the link to its keeper (keeper_protocol.hpp). It hands each new
// container's log pipes to the keeper, receives the exits the keeper reaped and passes them to
// the Supervisor, and acknowledges them once they are in state.json.
#include <cstdint>
#include <stop_token>
#include <string>

#include "init/unique_fd.hpp"
#include "reactor/task.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace corrald {

class KeeperLink {
 public:
  explicit KeeperLink(int fd) : fd_(fd) {}

  // Wires the supervisor options: logs go to the keeper, exits come from it.
  void configure(corral::supervisor::SupervisorOptions& options);

  // Delivers the records the keeper held when this corrald started, up to its "ready"; call
  // before Supervisor::recover(), so that recovery sees every exit that happened meanwhile.
  corral::reactor::Task<corral::Expected<void>> receive_backlog(
      corral::supervisor::Supervisor& supervisor);
  // Delivers the keeper's later records until `stop` or the keeper's end (then `on_lost`).
  corral::reactor::Task<void> run(corral::supervisor::Supervisor& supervisor, std::stop_token stop,
                                  std::function<void()> on_lost);

 private:
  corral::Expected<void> send_capture(const std::string& id, const std::string& path, int out,
                                      int err);
  void acknowledge(std::uint64_t seq);
  // One message; false at the keeper's end. Malformed ones are reported and skipped.
  corral::reactor::Task<corral::Expected<bool>> receive_one(
      corral::supervisor::Supervisor& supervisor, bool& ready);

  corral::init::UniqueFd fd_;
  corral::supervisor::LogRotation rotation_;
  std::size_t max_line_ = 0;
};

}  // namespace corrald
