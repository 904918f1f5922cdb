#pragma once
// Connection: one client of the control socket. Requests are read line by line; every line gets
// an answer, malformed or not, and the connection survives. Output goes through a bounded queue
// drained by a writer coroutine, so the reactor never waits for a client: a client that lets
// more than kMaxQueuedBytes pile up (it stopped reading) is disconnected.
//
// Quick requests are answered in order as they are read; wait, events and logs run as tasks of
// the connection (their responses carry the request's tag), so the client can go on sending
// requests while they run, and a client that goes away cancels them.
#include <deque>
#include <functional>
#include <stop_token>
#include <string>

#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/supervisor/control_protocol.hpp"
#include "runtime/supervisor/notifier.hpp"
#include "runtime/supervisor/supervisor.hpp"

#include <nlohmann/json.hpp>

namespace corrald {

using corral::supervisor::Notifier;
using corral::supervisor::Request;
using corral::supervisor::Supervisor;

// Numbers about the daemon itself (containers, RSS, descriptors) for `stats` without an id.
nlohmann::json daemon_stats(const Supervisor& supervisor);

class Connection {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;
  static constexpr std::size_t kLowWatermark = 256 * 1024;

  // on_shutdown(stop_containers) is called once a shutdown request's answer has been sent.
  Connection(int fd, Supervisor& supervisor, std::function<void(bool)> on_shutdown);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves until the client goes away, is dropped, or `stop` is requested.
  corral::reactor::Task<void> serve(std::stop_token stop);

 private:
  corral::reactor::Task<void> writer();
  corral::reactor::Task<void> handle(Request request);
  corral::reactor::Task<void> handle_wait(Request request);
  corral::reactor::Task<void> handle_events(Request request);
  corral::reactor::Task<void> handle_logs(Request request);
  // Logs written by the keeper: read from the files, and followed by watching the live file grow.
  corral::reactor::Task<void> handle_file_logs(Request request);
  corral::reactor::Task<void> await_drained(std::size_t at_most);
  void handle_line(std::string_view line);
  // Queues a line; false (and the connection is being dropped) when the queue is full.
  bool send(std::string line);
  void drop(const char* why);

  int fd_;
  Supervisor& supervisor_;
  std::function<void(bool)> on_shutdown_;
  std::deque<std::string> out_;
  std::size_t queued_ = 0;
  bool dropped_ = false;
  Notifier out_ready_;
  Notifier drained_;
  std::stop_source stop_;
  corral::reactor::TaskScope tasks_;
};

}  // namespace corrald
