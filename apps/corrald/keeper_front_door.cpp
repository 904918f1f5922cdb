#include "keeper_front_door.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "keeper_protocol.hpp"
#include "private_socket.hpp"
#include "reactor/ops.hpp"
#include "runtime/fd_passing.hpp"

namespace corrald {

using namespace corral;

namespace {

Error bad_request(const std::string& why) {
  return Error(ErrorCode::ConfigInvalid, "keeper: bad serve request from a corrald front: " + why);
}

// Small messages on a link the front reads all the time: never waited for.
void tell(int fd, const nlohmann::json& message) {
  std::string text = message.dump();
  if (::send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
    std::fprintf(stderr, "corrald-keeper: tell a corrald front %s: %s\n",
                 message.value("op", "").c_str(), std::strerror(errno));
}

}  // namespace

Expected<ServeRequest> parse_serve_request(const std::string& text,
                                           std::vector<init::UniqueFd>& fds) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("op", "") != "serve")
    return fail(bad_request("not a serve message: " + text.substr(0, 200)));
  if (fds.size() != 3)
    return fail(bad_request("it carries " + std::to_string(fds.size()) +
                            " descriptors, not stdin, stdout and stderr"));
  ServeRequest request;
  if (!j["exe"].is_string() || !j["cwd"].is_string() || !j["argv"].is_array() ||
      j["argv"].empty() || !j["env"].is_array() || !j["respawn_delay_ms"].is_number_unsigned())
    return fail(
        bad_request("exe, cwd, argv, env or respawn_delay_ms is missing or of the wrong type"));
  request.exe = j["exe"].get<std::string>();
  request.cwd = j["cwd"].get<std::string>();
  for (const char* list : {"argv", "env"})
    for (const auto& item : j[list]) {
      if (!item.is_string()) return fail(bad_request(std::string(list) + " holds a non-string"));
      (list[0] == 'a' ? request.argv : request.env).push_back(item.get<std::string>());
    }
  request.respawn_delay = std::chrono::milliseconds(j["respawn_delay_ms"].get<std::uint64_t>());
  for (std::size_t i = 0; i < 3; ++i) request.stdio[i] = std::move(fds[i]);
  return request;
}

reactor::Task<Expected<ServeRequest>> FrontDoor::receive_request(int fd, std::stop_token stop) {
  for (;;) {
    auto readable = co_await reactor::poll(fd, POLLIN).with_stop(stop);
    if (!readable) co_return fail(Error(ErrorCode::SystemError, "keeper: stopped"));
    auto message = receive_with_fds(fd, kFrontMessageMax, "keeper: message from a corrald front");
    if (!message) {
      if (message.error().cause().errno_value == EAGAIN) continue;
      co_return fail(std::move(message).error());
    }
    if (message->data.empty())
      co_return fail(Error(ErrorCode::SystemError, "keeper: a corrald front left unserved"));
    co_return parse_serve_request(message->data, message->fds);
  }
}

reactor::Task<void> FrontDoor::serve_front(init::UniqueFd link, std::stop_token stop) {
  std::string why;
  if (!peer_trusted(link.get(), why)) {
    tell(link.get(), {{"op", "refused"}, {"error", "refused: " + why}});
    std::fprintf(stderr, "corrald-keeper: refused a front: %s\n", why.c_str());
    co_return;
  }
  auto request = co_await receive_request(link.get(), stop);
  if (stop.stop_requested()) {  // the keeper is ending: the front retries with the next one
    tell(link.get(), {{"op", "busy"}, {"error", "keeper: ending"}});
    co_return;
  }
  if (!request) {
    tell(link.get(), {{"op", "refused"}, {"error", request.error().what()}});
    co_return;
  }
  if (attached()) {
    tell(link.get(), {{"op", "refused"},
                      {"error", "another corrald already runs on this root (its keeper is pid " +
                                    std::to_string(::getpid()) + ")"}});
    co_return;
  }
  auto started = handlers_.serve(std::move(*request));
  if (!started) {
    const bool busy = started.error().cause().errno_value == EBUSY;
    tell(link.get(), {{"op", busy ? "busy" : "refused"}, {"error", started.error().what()}});
    co_return;
  }
  attached_ = link.get();
  attached_stop_ = std::stop_source();
  std::stop_token ended = attached_stop_.get_token();
  tell(link.get(), {{"op", "serving"}, {"pid", *started}});
  std::stop_callback forward(stop, [this] { attached_stop_.request_stop(); });
  while (!ended.stop_requested()) {
    auto readable = co_await reactor::poll(link.get(), POLLIN).with_stop(ended);
    if (!readable) break;
    auto message = receive_with_fds(link.get(), kFrontMessageMax, "keeper: corrald front");
    if (!message && message.error().cause().errno_value == EAGAIN) continue;
    if (!message || message->data.empty()) break;  // the front exited or was killed
    auto j = nlohmann::json::parse(message->data, nullptr, false);
    int signal = j.is_object() && j.value("op", "") == "signal" && j["signal"].is_number_integer()
                     ? j["signal"].get<int>()
                     : 0;
    if (signal == SIGTERM || signal == SIGINT || signal == SIGHUP)
      handlers_.signal(signal);
    else
      std::fprintf(stderr, "corrald-keeper: malformed message from a front (dropped): %.200s\n",
                   message->data.c_str());
  }
  if (attached_ == link.get() && !ended.stop_requested()) {
    attached_ = -1;
    handlers_.gone();
  }
}

void FrontDoor::ended(int status) {
  if (!attached()) return;
  tell(attached_, {{"op", "ended"}, {"status", status}});
  attached_ = -1;
  attached_stop_.request_stop();
}

reactor::Task<void> FrontDoor::run(std::stop_token stop) {
  reactor::TaskScope fronts;
  std::stop_callback forward(stop, [&] { fronts.request_stop(); });
  while (!stop.stop_requested()) {
    auto accepted = co_await reactor::accept(listener_.get()).with_stop(stop);
    if (!accepted) {
      if (accepted.error().value() == ECANCELED) break;
      std::fprintf(stderr, "corrald-keeper: accept: %s\n", accepted.error().message().c_str());
      (void)co_await reactor::sleep_for(std::chrono::milliseconds(100)).with_stop(stop);
      continue;
    }
    fronts.spawn(serve_front(init::UniqueFd(*accepted), fronts.token()));
  }
  fronts.request_stop();
  co_await fronts.join();
}

}  // namespace corrald
