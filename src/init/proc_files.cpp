#include "init/proc_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace corral::init {

bool read_whole_file(const char* path, std::string& out) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(separator, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (std::size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

}  // namespace

std::vector<MountInfo> parse_mountinfo(const std::string& text) {
  std::vector<MountInfo> out;
  for (const auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    auto fields = split(line, ' ');
    // id parent major:minor root mount_point options [optional...] - fstype source super
    std::size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 3 >= fields.size()) continue;
    MountInfo info;
    info.root = unescape(fields[3]);
    info.mount_point = unescape(fields[4]);
    info.fs_type = fields[dash + 1];
    info.super_options = split(fields[dash + 3], ',');
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<CgroupMembership> parse_proc_cgroup(const std::string& text) {
  std::vector<CgroupMembership> out;
  for (const auto& line : split(text, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    CgroupMembership m;
    m.hierarchy_id = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) m.controllers = split(controllers, ',');
    m.path = line.substr(second + 1);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace corral::init
