#include "runtime/cgroups/cgroupfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace corral::cgroups::fs {
namespace {

// Closes the fd on every path out of a function.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so that an error from close is seen (a cgroupfs write may report late).
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

int open_retrying(const std::string& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string parent_dir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Expected<std::string> read_file(const std::string& path) {
  FdCloser fd(open_retrying(path, O_RDONLY));
  if (fd.get() < 0) return fail(Error::from_errno(errno, "open", path));
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno(errno, "read", path));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

Expected<std::optional<std::string>> read_file_if_exists(const std::string& path) {
  auto content = read_file(path);
  if (content) return std::optional<std::string>(std::move(*content));
  if (content.error().cause().errno_value == ENOENT) return std::optional<std::string>();
  return fail(std::move(content.error()));
}

Expected<void> write_file(const std::string& path, std::string_view value) {
  FdCloser fd(open_retrying(path, O_WRONLY | O_TRUNC));
  if (fd.get() < 0) return fail(Error::from_errno(errno, "open", path));
  // cgroupfs takes one value per write(); a short write would split it, so write it whole.
  while (true) {
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fail(Error::from_errno(errno, "write", path)
                      .with_context("value \"" + std::string(value) + "\""));
    }
    if (static_cast<std::size_t>(n) != value.size()) {
      return fail(Error::from_errno(EIO, "short write", path));
    }
    break;
  }
  if (fd.close_now() != 0) return fail(Error::from_errno(errno, "close", path));
  return {};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r";
  const auto begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

Expected<std::uint64_t> parse_u64(std::string_view text, const std::string& path) {
  const auto value_text = trim(text);
  std::uint64_t value = 0;
  const auto [end, ec] =
      std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
  if (value_text.empty() || ec != std::errc() || end != value_text.data() + value_text.size()) {
    return fail(Error(ErrorCode::SystemError,
                      "parse " + path + ": \"" + std::string(value_text) + "\" is not a number",
                      ErrorCause{EINVAL, "parse", path}));
  }
  return value;
}

std::optional<std::string_view> keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.size() > key.size() && line.starts_with(key) &&
        (line[key.size()] == ' ' || line[key.size()] == '\t')) {
      return trim(line.substr(key.size()));
    }
  }
  return std::nullopt;
}

Expected<std::optional<std::uint64_t>> read_u64_if_exists(const std::string& path) {
  auto content = read_file_if_exists(path);
  if (!content) return fail(std::move(content.error()));
  if (!*content) return std::optional<std::uint64_t>();
  auto value = parse_u64(**content, path);
  if (!value) return fail(std::move(value.error()));
  return std::optional<std::uint64_t>(*value);
}

Expected<std::optional<std::uint64_t>> read_keyed_u64_if_exists(const std::string& path,
                                                                std::string_view key) {
  auto content = read_file_if_exists(path);
  if (!content) return fail(std::move(content.error()));
  if (!*content) return std::optional<std::uint64_t>();
  const auto text = keyed_value(**content, key);
  if (!text) return std::optional<std::uint64_t>();
  auto value = parse_u64(*text, path + " (" + std::string(key) + ")");
  if (!value) return fail(std::move(value.error()));
  return std::optional<std::uint64_t>(*value);
}

Expected<std::vector<pid_t>> read_pids(const std::string& path) {
  auto content = read_file(path);
  if (!content) return fail(std::move(content.error()));
  std::vector<pid_t> pids;
  std::string_view text = *content;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.empty()) continue;
    auto pid = parse_u64(line, path);
    if (!pid) return fail(std::move(pid.error()));
    pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

Expected<void> make_dirs(const std::string& path) {
  if (path.empty() || path == "/" || path == ".") return {};
  if (::mkdir(path.c_str(), 0755) == 0) return {};
  if (errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    return fail(Error::from_errno(ENOTDIR, "mkdir", path));
  }
  if (errno != ENOENT) return fail(Error::from_errno(errno, "mkdir", path));
  if (auto parent = make_dirs(parent_dir(path)); !parent) return parent;
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return fail(Error::from_errno(errno, "mkdir", path));
}

Expected<void> remove_dir_tree(const std::string& dir) {
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return {};
    return fail(Error::from_errno(errno, "opendir", dir));
  }
  std::vector<std::string> children;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (entry->d_type == DT_DIR) children.push_back(join(dir, name));
  }
  ::closedir(stream);
  for (const auto& child : children) {
    if (auto removed = remove_dir_tree(child); !removed) return removed;
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return fail(Error::from_errno(errno, "rmdir", dir));
  }
  return {};
}

}  // namespace corral::cgroups::fs
