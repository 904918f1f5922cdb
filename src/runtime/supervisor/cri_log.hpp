#pragma once
// Container logs in the Kubernetes CRI format, one entry per line:
//
//   2026-11-29T19:50:01.123456789Z stdout F hello
//   <RFC3339Nano, UTC, 9 digits> <stdout|stderr> <F: full line | P: partial line> <text>
//
// CriLineSplitter cuts one stream's bytes into entries: a newline ends an F entry (the newline
// is not part of the text); a line longer than max_line is emitted in P pieces of max_line
// bytes, its last piece as F; text left without a newline at end of stream is an F entry.
//
// LogWriter appends entries to a file and rotates it by size: when an entry would make the file
// larger than max_bytes, FILE becomes FILE.1, FILE.1 becomes FILE.2, ... and the oldest beyond
// `rotated_kept` is removed (0 keeps none: the file simply starts again). Writes go to the page
// cache with write(2) on the reactor thread: no fsync, as logs are not state.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corral::supervisor {

enum class LogStream { Stdout, Stderr };
std::string_view to_string(LogStream stream);

struct LogEntry {
  LogStream stream = LogStream::Stdout;
  bool partial = false;
  std::string text;
};

// "2026-11-29T19:50:01.123456789Z"
std::string format_rfc3339_nano(std::int64_t unix_ns);
// One line of the file, newline included.
std::string format_cri_line(const LogEntry& entry, std::int64_t unix_ns);

class CriLineSplitter {
 public:
  static constexpr std::size_t kDefaultMaxLine = 16 * 1024;  // containerd's default

  explicit CriLineSplitter(LogStream stream, std::size_t max_line = kDefaultMaxLine)
      : stream_(stream), max_line_(max_line == 0 ? 1 : max_line) {}

  // Feeds bytes read from the stream; appends the entries they complete to `out`.
  void feed(std::string_view bytes, std::vector<LogEntry>& out);
  // End of stream: what is pending becomes an F entry.
  void finish(std::vector<LogEntry>& out);

 private:
  LogStream stream_;
  std::size_t max_line_;
  std::string pending_;
  bool continuing_ = false;  // pending_ continues a line already emitted in P pieces
};

struct LogRotation {
  std::uint64_t max_bytes = 10 * 1024 * 1024;
  unsigned rotated_kept = 3;
};

class LogWriter {
 public:
  LogWriter() = default;
  LogWriter(LogWriter&& other) noexcept;
  LogWriter& operator=(LogWriter&& other) noexcept;
  ~LogWriter();

  // Opens (creates, appends to) `path`, mode 0600.
  static Expected<LogWriter> open(std::string path, LogRotation rotation = {});

  Expected<void> write(const LogEntry& entry, std::int64_t unix_ns);
  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  bool is_open() const { return fd_ >= 0; }
  // Closes the file until the next write reopens it (appending): a process writing thousands
  // of logs keeps only the busy ones open.
  void close_file();

  // Sees every line written (for `logs --follow`); one observer at a time per writer is not
  // enough for a daemon, so observers are kept in a list and removed by the handle returned.
  using Observer = std::function<void(std::string_view line)>;
  std::uint64_t observe(Observer observer);
  void unobserve(std::uint64_t handle);

  // FILE.N ... FILE.1 FILE: the files holding the log, oldest first (only those that exist).
  std::vector<std::string> files() const;

 private:
  Expected<void> rotate();

  std::string path_;
  LogRotation rotation_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t next_observer_ = 1;
  std::vector<std::pair<std::uint64_t, Observer>> observers_;
};

// FILE.N ... FILE.1 FILE of a log at `path` rotated with `rotated_kept`: those that exist,
// oldest first.
std::vector<std::string> log_files_of(const std::string& path, unsigned rotated_kept);

}  // namespace corral::supervisor
