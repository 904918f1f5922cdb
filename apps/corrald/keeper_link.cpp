#include "keeper_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "keeper_protocol.hpp"
#include "reactor/ops.hpp"
#include "runtime/fd_passing.hpp"

namespace corrald {

using namespace corral;

void KeeperLink::configure(supervisor::SupervisorOptions& options) {
  rotation_ = options.log_rotation;
  max_line_ = options.max_log_line;
  options.log_handoff = [this](const std::string& id, const std::string& path, int out, int err) {
    return send_capture(id, path, out, err);
  };
  options.exit_reaper = ::getppid();  // the keeper started us
  options.exit_folded = [this](std::uint64_t seq) { acknowledge(seq); };
}

Expected<void> KeeperLink::send_capture(const std::string& id, const std::string& path, int out,
                                        int err) {
  nlohmann::json message{{"op", "capture"},
                         {"id", id},
                         {"path", path},
                         {"max_bytes", rotation_.max_bytes},
                         {"keep", rotation_.rotated_kept},
                         {"max_line", max_line_}};
  int fds[] = {out, err};
  // Blocking: the keeper reads its end all the time, and a log must have its reader before the
  // container can write.
  return send_with_fds(fd_.get(), message.dump(), fds,
                       "hand the log pipes of container " + id + " to the keeper");
}

void KeeperLink::acknowledge(std::uint64_t seq) {
  std::string message = nlohmann::json{{"op", "ack"}, {"seq", seq}}.dump();
  if (::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL) < 0)
    std::fprintf(stderr, "corrald: acknowledge exit record %llu to the keeper: %s\n",
                 static_cast<unsigned long long>(seq), std::strerror(errno));
}

reactor::Task<Expected<bool>> KeeperLink::receive_one(supervisor::Supervisor& supervisor,
                                                      bool& ready) {
  auto readable = co_await reactor::poll(fd_.get(), POLLIN);
  if (!readable) co_return fail(Error::from_errno(readable.error().value(), "keeper link: poll"));
  auto message = receive_with_fds(fd_.get(), kKeeperMessageMax, "keeper link");
  if (!message) {
    if (message.error().cause().errno_value == EAGAIN ||
        message.error().cause().errno_value == EINTR)
      co_return true;
    co_return fail(std::move(message).error());
  }
  if (message->data.empty()) co_return false;
  auto j = nlohmann::json::parse(message->data, nullptr, false);
  std::string op = j.is_object() ? j.value("op", "") : "";
  if (op == "ready") {
    ready = true;
  } else if (op == "exit") {
    auto record = supervisor::ReapedExit::from_json(j, "the keeper");
    if (record)
      supervisor.deliver_exit(*record);
    else
      std::fprintf(stderr, "corrald: %s (dropped)\n", record.error().what().c_str());
  } else {
    std::fprintf(stderr, "corrald: malformed message from the keeper (dropped): %.200s\n",
                 message->data.c_str());
  }
  co_return true;
}

reactor::Task<Expected<void>> KeeperLink::receive_backlog(supervisor::Supervisor& supervisor) {
  bool ready = false;
  while (!ready) {
    auto more = co_await receive_one(supervisor, ready);
    if (!more) co_return fail(std::move(more).error());
    if (!*more)
      co_return fail(Error(ErrorCode::SystemError, "keeper link: the keeper closed the link"));
  }
  co_return Expected<void>{};
}

reactor::Task<void> KeeperLink::run(supervisor::Supervisor& supervisor, std::stop_token stop,
                                    std::function<void()> on_lost) {
  bool ready = false;
  while (!stop.stop_requested()) {
    auto readable = co_await reactor::poll(fd_.get(), POLLIN).with_stop(stop);
    if (!readable) co_return;
    auto more = co_await receive_one(supervisor, ready);
    if (!more || !*more) {
      std::fprintf(stderr, "corrald: lost the keeper%s%s\n", more ? "" : ": ",
                   more ? "" : more.error().what().c_str());
      on_lost();
      co_return;
    }
  }
}

}  // namespace corrald
