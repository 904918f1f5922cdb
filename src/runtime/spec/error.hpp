#pragma once
// corral::Error: what libcontainer calls a generic error. It carries a code, a message, a cause
// (errno and the operation/path that failed) and a timestamp, and serializes to JSON: that JSON
// is "the serialized system error" the init sends after a procError sync message.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "reactor/result.hpp"

namespace corral {

enum class ErrorCode {
  IdInUse,
  InvalidIdFormat,
  ContainerNotExists,
  ContainerPaused,
  ContainerNotStopped,
  ContainerNotRunning,
  ContainerNotPaused,
  NoProcessOps,
  ConfigInvalid,
  ConsoleExists,
  Unsupported,
  SystemError,
};

// The stable name used in JSON and messages ("ConfigInvalid"); parse returns false if unknown.
std::string_view to_string(ErrorCode code);
bool parse_error_code(std::string_view name, ErrorCode& out);

struct ErrorCause {
  int errno_value = 0;    // 0 when the failure is not a system call's
  std::string operation;  // e.g. "mount", "openat", "write state.json"
  std::string path;       // the object operated on, if any

  bool operator==(const ErrorCause&) const = default;
};

class Error {
 public:
  using Clock = std::chrono::system_clock;

  Error() = default;
  Error(ErrorCode code, std::string message, ErrorCause cause = {},
        Clock::time_point timestamp = Clock::now());

  // A SystemError from a failed system call: "OPERATION PATH: strerror(errno)".
  static Error from_errno(int errno_value, std::string operation, std::string path = {});

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const ErrorCause& cause() const { return cause_; }
  Clock::time_point timestamp() const { return timestamp_; }

  // One line for humans: the message, then the cause if the message does not already say it.
  std::string what() const;

  // Prepends context ("create container abc: ") to the message, keeping code and cause.
  Error& with_context(std::string_view context);

  // Serialized form, exact round-trip (timestamp to the nanosecond).
  nlohmann::json to_json() const;
  std::string serialize() const;
  // A malformed, oversized (> kMaxSerializedSize) or incomplete text yields a SystemError that
  // says what was wrong with it; never throws.
  static Error deserialize(std::string_view text);
  static constexpr std::size_t kMaxSerializedSize = 64 * 1024;

  bool operator==(const Error&) const = default;

 private:
  ErrorCode code_ = ErrorCode::SystemError;
  std::string message_;
  ErrorCause cause_;
  Clock::time_point timestamp_{};
};

template <class T>
using Expected = Result<T, Error>;

}  // namespace corral
