#include "runtime/supervisor/cri_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include <fmt/format.h>

namespace corral::supervisor {

std::string_view to_string(LogStream stream) {
  return stream == LogStream::Stdout ? "stdout" : "stderr";
}

std::string format_rfc3339_nano(std::int64_t unix_ns) {
  std::int64_t seconds = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm utc {};
  ::gmtime_r(&t, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, nanos);
}

std::string format_cri_line(const LogEntry& entry, std::int64_t unix_ns) {
  std::string line = format_rfc3339_nano(unix_ns);
  line += ' ';
  line += to_string(entry.stream);
  line += entry.partial ? " P " : " F ";
  line += entry.text;
  line += '\n';
  return line;
}

void CriLineSplitter::feed(std::string_view bytes, std::vector<LogEntry>& out) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    // Never let pending_ grow past max_line: long lines leave in P pieces as they come.
    while (pending_.size() + piece.size() > max_line_) {
      std::size_t take = max_line_ - pending_.size();
      pending_.append(piece.substr(0, take));
      piece.remove_prefix(take);
      out.push_back(LogEntry{stream_, true, std::move(pending_)});
      pending_.clear();
      continuing_ = true;
    }
    pending_.append(piece);
    if (newline == std::string_view::npos) return;
    out.push_back(LogEntry{stream_, false, std::move(pending_)});
    pending_.clear();
    continuing_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void CriLineSplitter::finish(std::vector<LogEntry>& out) {
  if (!pending_.empty() || continuing_)
    out.push_back(LogEntry{stream_, false, std::move(pending_)});
  pending_.clear();
  continuing_ = false;
}

LogWriter::LogWriter(LogWriter&& other) noexcept {
  *this = std::move(other);
}

LogWriter& LogWriter::operator=(LogWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    rotation_ = other.rotation_;
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    next_observer_ = other.next_observer_;
    observers_ = std::move(other.observers_);
  }
  return *this;
}

LogWriter::~LogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<LogWriter> LogWriter::open(std::string path, LogRotation rotation) {
  LogWriter writer;
  writer.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (writer.fd_ < 0) return fail(Error::from_errno(errno, "open container log", path));
  struct stat st {};
  if (::fstat(writer.fd_, &st) == 0) writer.size_ = static_cast<std::uint64_t>(st.st_size);
  writer.path_ = std::move(path);
  writer.rotation_ = rotation;
  return writer;
}

void LogWriter::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Expected<void> LogWriter::rotate() {
  auto numbered = [&](unsigned n) { return path_ + "." + std::to_string(n); };
  if (rotation_.rotated_kept == 0) {
    if (::ftruncate(fd_, 0) < 0)
      return fail(Error::from_errno(errno, "truncate container log", path_));
    size_ = 0;
    return {};
  }
  ::unlink(numbered(rotation_.rotated_kept).c_str());
  for (unsigned n = rotation_.rotated_kept; n > 1; --n)
    ::rename(numbered(n - 1).c_str(), numbered(n).c_str());  // a missing one is fine
  if (::rename(path_.c_str(), numbered(1).c_str()) < 0)
    return fail(Error::from_errno(errno, "rotate container log", path_));
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::from_errno(errno, "reopen rotated container log", path_));
  ::close(fd_);
  fd_ = fd;
  size_ = 0;
  return {};
}

Expected<void> LogWriter::write(const LogEntry& entry, std::int64_t unix_ns) {
  if (path_.empty())
    return fail(Error(ErrorCode::SystemError, "write container log: no file opened"));
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return fail(Error::from_errno(errno, "reopen container log", path_));
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }
  std::string line = format_cri_line(entry, unix_ns);
  if (size_ > 0 && size_ + line.size() > rotation_.max_bytes)
    if (auto rotated = rotate(); !rotated) return rotated;
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "write container log", path_));
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  size_ += line.size();
  // An observer may unobserve itself (a client gone): iterate over a copy of the handles.
  auto observers = observers_;
  for (auto& [handle, observer] : observers) observer(line);
  return {};
}

std::uint64_t LogWriter::observe(Observer observer) {
  observers_.emplace_back(next_observer_, std::move(observer));
  return next_observer_++;
}

void LogWriter::unobserve(std::uint64_t handle) {
  std::erase_if(observers_, [&](const auto& o) { return o.first == handle; });
}

std::vector<std::string> LogWriter::files() const {
  return log_files_of(path_, rotation_.rotated_kept);
}

std::vector<std::string> log_files_of(const std::string& path, unsigned rotated_kept) {
  std::vector<std::string> out;
  for (unsigned n = rotated_kept; n >= 1; --n) {
    std::string p = path + "." + std::to_string(n);
    if (::access(p.c_str(), F_OK) == 0) out.push_back(p);
  }
  if (::access(path.c_str(), F_OK) == 0) out.push_back(path);
  return out;
}

}  // namespace corral::supervisor
