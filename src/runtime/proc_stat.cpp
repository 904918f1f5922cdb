#include "runtime/proc_stat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace corral {

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields after the name, space separated: index 0 is field 3 (state), index 19 is field 22.
  ProcStat out;
  int index = 0;
  std::size_t pos = 0;
  bool have_start = false;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    std::size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view field = rest.substr(pos, end - pos);
    if (field.empty()) break;
    if (index == 0) {
      if (field.size() != 1) return std::nullopt;
      out.state = field[0];
    } else if (index == 1) {
      auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out.parent);
      if (ec != std::errc() || p != field.data() + field.size()) return std::nullopt;
    } else if (index == 19) {
      auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out.start_time);
      if (ec != std::errc() || p != field.data() + field.size()) return std::nullopt;
      have_start = true;
      break;
    }
    ++index;
    pos = end;
  }
  if (!have_start) return std::nullopt;
  return out;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buffer[1024];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_proc_stat(std::string_view(buffer, static_cast<std::size_t>(n)));
}

bool process_matches(pid_t pid, std::uint64_t start_time) {
  auto stat = read_proc_stat(pid);
  return stat && stat->state != 'Z' && stat->state != 'X' && stat->start_time == start_time;
}

}  // namespace corral
