#include "apps/corral/log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

namespace corral::cli {
namespace {

// logrus leaves a text value bare only when it is made of these characters.
bool needs_quoting(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    if (!plain) return true;
  }
  return false;
}

// A double-quoted value with Go's escapes, so that a message never spans two lines.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string text_value(std::string_view value) {
  return needs_quoting(value) ? quoted(value) : std::string(value);
}

// Writes all of text; a log that cannot be written has nowhere to report to, so errors are
// dropped (the failure itself still reaches stderr through report_failure).
void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The stderr line of a failure: one line whatever the message holds.
std::string one_line(std::string_view message) {
  std::string out(message);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "error";
}

std::string format_log_entry(LogFormat format, LogLevel level, std::string_view message,
                             SystemTime time) {
  const std::string timestamp = format_rfc3339(time);
  if (format == LogFormat::Json) {
    nlohmann::json entry{{"level", to_string(level)}, {"msg", message}, {"time", timestamp}};
    // Messages may carry paths that are not UTF-8; replace such bytes rather than throw.
    return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return fmt::format("time={} level={} msg={}", text_value(timestamp), to_string(level),
                     text_value(message));
}

Logger::Logger(LogFormat format, bool debug) : format_(format), debug_(debug) {}

Expected<Logger> Logger::open(const GlobalOptions& global) {
  if (global.log_file.empty()) return Logger(global.log_format, global.debug);
  int fd = ::open(global.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Error::from_errno(errno, "open log file", global.log_file));
  return Logger(fd, global.log_format, global.debug);
}

Logger::Logger(Logger&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), format_(other.format_), debug_(other.debug_) {}

Logger& Logger::operator=(Logger&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    format_ = other.format_;
    debug_ = other.debug_;
  }
  return *this;
}

Logger::~Logger() {
  if (fd_ >= 0) ::close(fd_);
}

void Logger::log(LogLevel level, std::string_view message) {
  if (level == LogLevel::Debug && !debug_) return;
  std::string line =
      format_log_entry(format_, level, message, std::chrono::system_clock::now()) + "\n";
  write_all(fd_ >= 0 ? fd_ : STDERR_FILENO, line);  // one write: entries never interleave
}

void Logger::report_failure(std::string_view message) {
  write_all(STDERR_FILENO, one_line(message) + "\n");
  if (fd_ >= 0) log(LogLevel::Error, message);
}

}  // namespace corral::cli
