#pragma once
// The control protocol of corrald: newline-delimited JSON over a unix socket (docs/protocol.md).
// One request per line; each gets one response line, and the streaming verbs (events, logs with
// follow) then send item lines until the connection closes.
//
// Parsing is separate from the daemon so that every malformed, oversized or unknown request is
// unit-tested: parse_request never throws, and its error says which field is wrong and why.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reactor/result.hpp"
#include "runtime/supervisor/restart_policy.hpp"

namespace corral::supervisor {

// A request line longer than this (newline excluded) is refused with TooLarge.
inline constexpr std::size_t kMaxRequestLine = 1024 * 1024;

enum class Verb {
  Create,
  Start,
  Run,
  Kill,
  Delete,
  State,
  List,
  Wait,
  Events,
  Logs,
  Stats,
  Shutdown
};
std::string_view to_string(Verb verb);

struct Request {
  Verb verb = Verb::List;
  nlohmann::json tag;  // echoed in the response; null when absent
  std::string id;
  std::string bundle;
  RestartPolicy restart;
  int signal = 15;  // SIGTERM
  bool all = false;
  bool force = false;
  bool follow = false;
  bool stop_containers = false;
};

// Protocol-level error codes (BadRequest, TooLarge, UnknownVerb) and the runtime's ErrorCode
// names share the "code" field of an error response.
struct ProtocolError {
  std::string code;
  std::string message;
};

Result<Request, ProtocolError> parse_request(std::string_view line);
// "TERM", "SIGTERM", "15" or 15 -> 15; 0 when not a signal.
int parse_signal_value(const nlohmann::json& value);

// Response lines, newline included.
std::string ok_line(const nlohmann::json& tag, nlohmann::json body = nlohmann::json::object());
std::string error_line(const nlohmann::json& tag, std::string_view code, std::string_view message);

}  // namespace corral::supervisor
