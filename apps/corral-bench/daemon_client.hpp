#pragma once
// A small blocking client of corrald's control socket (docs/protocol.md: newline-delimited
// JSON, one response line per request, item lines for `events`). corrald handles the requests
// of one connection in order, so `C requests in flight` means C connections: request_all()
// keeps one request in flight on each connection of a set, multiplexed with poll(2).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::bench {

class DaemonConnection {
 public:
  // Throws std::runtime_error naming the socket and the cause.
  explicit DaemonConnection(const std::string& socket_path);
  ~DaemonConnection();
  DaemonConnection(DaemonConnection&& other) noexcept;
  DaemonConnection& operator=(DaemonConnection&&) = delete;
  DaemonConnection(const DaemonConnection&) = delete;

  int fd() const { return fd_; }
  const std::string& socket_path() const { return socket_path_; }

  // Writes one request line. Throws std::runtime_error when the daemon is gone.
  void send(const nlohmann::json& request);
  // The next line, waiting at most timeout_ms (-1: no limit); nullopt on timeout or when the
  // daemon closed the connection (closed() tells which).
  std::optional<nlohmann::json> next(int timeout_ms = -1);
  // The next line already received, without reading the socket.
  std::optional<nlohmann::json> buffered();
  // One recv(2) into the buffer (the caller knows the socket is readable). False at the end.
  bool fill();
  bool closed() const { return closed_; }

  // send + the response line (item lines of earlier streaming requests are skipped). Throws
  // std::runtime_error when the daemon closes the connection instead of answering.
  nlohmann::json request(const nlohmann::json& request);

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string socket_path_;
  std::string buffer_;
};

// "" for an ok response, else "Code: message" of its error.
std::string response_error(const nlohmann::json& response);

// Sends make_request(i) for i in [0, count), one in flight on each connection, and hands every
// response to on_response(i, response). Throws std::runtime_error when a connection ends.
void request_all(std::vector<DaemonConnection>& connections, int count,
                 const std::function<nlohmann::json(int)>& make_request,
                 const std::function<void(int, const nlohmann::json&)>& on_response);

}  // namespace corral::bench
