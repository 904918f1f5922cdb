#pragma once
// corral's log, as runc writes it, because its callers read it: containerd runs the runtime with
// `--log FILE --log-format json` and, when a command fails, reports the message of the last
// "level":"error" entry of FILE. So every failure must end up there as one entry:
//   json: {"level":"error","msg":"...","time":"2024-05-01T12:34:56Z"}
//   text: time="2024-05-01T12:34:56Z" level=error msg="..."
// Without --log, entries go to stderr. --debug adds debug entries; info and above always go.
#include <string>
#include <string_view>

#include "apps/corral/cli_args.hpp"
#include "apps/corral/time_format.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

enum class LogLevel { Debug, Info, Warning, Error };

std::string_view to_string(LogLevel level);

// One entry, without the trailing newline.
std::string format_log_entry(LogFormat format, LogLevel level, std::string_view message,
                             SystemTime time);

class Logger {
 public:
  // Entries to stderr in the given format.
  Logger(LogFormat format, bool debug);
  // Opens global.log_file for appending (created 0644) when it is set; a failure names the file.
  static Expected<Logger> open(const GlobalOptions& global);

  Logger(Logger&& other) noexcept;
  Logger& operator=(Logger&& other) noexcept;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  ~Logger();

  void log(LogLevel level, std::string_view message);
  void debug(std::string_view message) { log(LogLevel::Debug, message); }
  void error(std::string_view message) { log(LogLevel::Error, message); }
  bool debug_enabled() const { return debug_; }
  bool logs_to_file() const { return fd_ >= 0; }

  // A failure of the command: one line on stderr and, with --log, an error entry in the file.
  void report_failure(std::string_view message);

 private:
  Logger(int fd, LogFormat format, bool debug) : fd_(fd), format_(format), debug_(debug) {}

  int fd_ = -1;  // the --log file; -1: stderr
  LogFormat format_ = LogFormat::Text;
  bool debug_ = false;
};

}  // namespace corral::cli
