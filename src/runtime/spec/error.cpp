#include "runtime/spec/error.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

namespace corral {
namespace {

using json = nlohmann::json;

struct CodeName {
  ErrorCode code;
  std::string_view name;
};

constexpr std::array<CodeName, 12> kCodeNames{{
    {ErrorCode::IdInUse, "IdInUse"},
    {ErrorCode::InvalidIdFormat, "InvalidIdFormat"},
    {ErrorCode::ContainerNotExists, "ContainerNotExists"},
    {ErrorCode::ContainerPaused, "ContainerPaused"},
    {ErrorCode::ContainerNotStopped, "ContainerNotStopped"},
    {ErrorCode::ContainerNotRunning, "ContainerNotRunning"},
    {ErrorCode::ContainerNotPaused, "ContainerNotPaused"},
    {ErrorCode::NoProcessOps, "NoProcessOps"},
    {ErrorCode::ConfigInvalid, "ConfigInvalid"},
    {ErrorCode::ConsoleExists, "ConsoleExists"},
    {ErrorCode::Unsupported, "Unsupported"},
    {ErrorCode::SystemError, "SystemError"},
}};

// strerror() is not thread-safe; the GNU strerror_r returns the message pointer.
std::string errno_text(int errno_value) {
  char buffer[128];
  return ::strerror_r(errno_value, buffer, sizeof buffer);
}

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// RFC 3339 with nine fractional digits, always UTC: "2024-05-01T12:00:00.000000001Z". It is for
// humans and other tools; "timestamp_ns" carries the exact value.
std::string format_rfc3339_nano(std::int64_t ns_since_epoch) {
  std::int64_t seconds = ns_since_epoch / kNanosPerSecond;
  std::int64_t nanos = ns_since_epoch % kNanosPerSecond;
  if (nanos < 0) {  // floor division for instants before 1970
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
}

// Parses what format_rfc3339_nano writes, plus any fraction length and a numeric offset, for
// texts that carry only the human-readable form.
std::optional<std::int64_t> parse_rfc3339_nano(const std::string& text) {
  std::tm tm{};
  const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  std::int64_t nanos = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (*rest - '0');
        ++digits;
      }
      ++rest;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int sign = *rest == '-' ? -1 : 1;
    unsigned hours = 0, minutes = 0;
    int consumed = 0;
    if (std::sscanf(rest + 1, "%2u:%2u%n", &hours, &minutes, &consumed) != 2 || consumed != 5) {
      return std::nullopt;
    }
    offset_seconds = sign * static_cast<std::int64_t>(hours * 3600 + minutes * 60);
    rest += 1 + consumed;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  std::int64_t seconds = static_cast<std::int64_t>(::timegm(&tm)) - offset_seconds;
  return seconds * kNanosPerSecond + nanos;
}

std::string json_kind(const json& value) {
  if (value.is_number_unsigned()) return "unsigned integer";
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();
}

Error deserialize_failure(const std::string& what) {
  return Error(ErrorCode::SystemError, "deserialize error: " + what,
               ErrorCause{0, "deserialize error", {}});
}

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& entry : kCodeNames) {
    if (entry.code == code) return entry.name;
  }
  return "UnknownErrorCode";
}

bool parse_error_code(std::string_view name, ErrorCode& out) {
  for (const auto& entry : kCodeNames) {
    if (entry.name == name) {
      out = entry.code;
      return true;
    }
  }
  return false;
}

Error::Error(ErrorCode code, std::string message, ErrorCause cause, Clock::time_point timestamp)
    : code_(code), message_(std::move(message)), cause_(std::move(cause)), timestamp_(timestamp) {}

Error Error::from_errno(int errno_value, std::string operation, std::string path) {
  std::string message = operation;
  if (!path.empty()) message += " " + path;
  message += ": " + errno_text(errno_value);
  return Error(ErrorCode::SystemError, std::move(message),
               ErrorCause{errno_value, std::move(operation), std::move(path)});
}

std::string Error::what() const {
  std::string cause_text;
  if (!cause_.operation.empty()) cause_text = cause_.operation;
  if (!cause_.path.empty()) cause_text += (cause_text.empty() ? "" : " ") + cause_.path;
  if (cause_.errno_value != 0) {
    cause_text += (cause_text.empty() ? "" : ": ") + errno_text(cause_.errno_value);
  }
  if (cause_text.empty() || message_.find(cause_text) != std::string::npos) return message_;
  // The message may already say the system error in its own words; name it once only.
  if (cause_.errno_value != 0 &&
      message_.find(errno_text(cause_.errno_value)) != std::string::npos) {
    return message_;
  }
  if (message_.empty()) return cause_text;
  return message_ + " (" + cause_text + ")";
}

Error& Error::with_context(std::string_view context) {
  message_.insert(0, fmt::format("{}: ", context));
  return *this;
}

nlohmann::json Error::to_json() const {
  const std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(timestamp_.time_since_epoch()).count();
  return json{
      {"code", to_string(code_)},
      {"message", message_},
      {"cause",
       {{"errno", cause_.errno_value}, {"operation", cause_.operation}, {"path", cause_.path}}},
      {"timestamp", format_rfc3339_nano(ns)},
      {"timestamp_ns", ns},
  };
}

std::string Error::serialize() const {
  // replace: a message may hold bytes that are not UTF-8 (a path); never throw on them.
  return to_json().dump(-1, ' ', false, json::error_handler_t::replace);
}

Error Error::deserialize(std::string_view text) {
  if (text.size() > kMaxSerializedSize) {
    return deserialize_failure(fmt::format("serialized error is {} bytes, more than the {} allowed",
                                           text.size(), kMaxSerializedSize));
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return deserialize_failure(fmt::format("malformed JSON: {}", e.what()));
  }
  if (!doc.is_object()) {
    return deserialize_failure(fmt::format("expected a JSON object, got {}", json_kind(doc)));
  }

  auto string_field = [](const json& object, const char* key, const std::string& where,
                         bool required, std::string& out) -> std::optional<std::string> {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) return fmt::format("missing field \"{}{}\"", where, key);
      return std::nullopt;
    }
    if (!it->is_string()) {
      return fmt::format("field \"{}{}\": expected a string, got {}", where, key, json_kind(*it));
    }
    out = it->get<std::string>();
    return std::nullopt;
  };

  std::string code_name, message;
  if (auto problem = string_field(doc, "code", "", true, code_name)) {
    return deserialize_failure(*problem);
  }
  ErrorCode code{};
  if (!parse_error_code(code_name, code)) {
    return deserialize_failure(fmt::format("field \"code\": unknown error code \"{}\"", code_name));
  }
  if (auto problem = string_field(doc, "message", "", true, message)) {
    return deserialize_failure(*problem);
  }

  ErrorCause cause;
  if (auto it = doc.find("cause"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) {
      return deserialize_failure(
          fmt::format("field \"cause\": expected an object, got {}", json_kind(*it)));
    }
    if (auto e = it->find("errno"); e != it->end()) {
      if (!e->is_number_integer() || e->get<std::int64_t>() < 0 || e->get<std::int64_t>() > 4095) {
        return deserialize_failure(
            fmt::format("field \"cause.errno\": expected an errno number (0-4095), got {} {}",
                        json_kind(*e), e->dump(-1, ' ', false, json::error_handler_t::replace)));
      }
      cause.errno_value = e->get<int>();
    }
    if (auto problem = string_field(*it, "operation", "cause.", false, cause.operation)) {
      return deserialize_failure(*problem);
    }
    if (auto problem = string_field(*it, "path", "cause.", false, cause.path)) {
      return deserialize_failure(*problem);
    }
  }

  std::int64_t ns = 0;
  if (auto it = doc.find("timestamp_ns"); it != doc.end()) {
    if (!it->is_number_integer()) {
      return deserialize_failure(
          fmt::format("field \"timestamp_ns\": expected an integer, got {}", json_kind(*it)));
    }
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      return deserialize_failure("field \"timestamp_ns\": out of range");
    }
    ns = it->get<std::int64_t>();
  } else {
    std::string stamp;
    if (auto problem = string_field(doc, "timestamp", "", true, stamp)) {
      return deserialize_failure(*problem + " (and no \"timestamp_ns\")");
    }
    auto parsed = parse_rfc3339_nano(stamp);
    if (!parsed) {
      return deserialize_failure(
          fmt::format("field \"timestamp\": \"{}\" is not an RFC 3339 time", stamp));
    }
    ns = *parsed;
  }

  return Error(
      code, std::move(message), std::move(cause),
      Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns))));
}

}  // namespace corral
