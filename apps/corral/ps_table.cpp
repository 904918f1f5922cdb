#include "apps/corral/ps_table.hpp"

#include <pwd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace corral::cli {
namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string user_name(uid_t uid) {
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    return found->pw_name;
  return std::to_string(uid);
}

// The real uid: the first number of the "Uid:" line of /proc/PID/status.
std::optional<uid_t> real_uid(pid_t pid) {
  std::istringstream status(read_whole(fmt::format("/proc/{}/status", pid)));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::stoul(line.substr(4)));
  }
  return std::nullopt;
}

// "btime" of /proc/stat: the boot time in seconds since the epoch.
std::time_t boot_time() {
  std::istringstream stat(read_whole("/proc/stat"));
  for (std::string line; std::getline(stat, line);)
    if (line.rfind("btime ", 0) == 0) return static_cast<std::time_t>(std::stoll(line.substr(6)));
  return 0;
}

double uptime_seconds() {
  std::istringstream uptime(read_whole("/proc/uptime"));
  double seconds = 0;
  uptime >> seconds;
  return seconds;
}

}  // namespace

std::string format_cpu_time(unsigned long long seconds) {
  const unsigned long long days = seconds / 86400;
  std::string clock =
      fmt::format("{:02}:{:02}:{:02}", seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60);
  return days > 0 ? fmt::format("{}-{}", days, clock) : clock;
}

std::string format_start_time(std::time_t start, std::time_t now) {
  struct tm start_tm {};
  struct tm now_tm {};
  ::localtime_r(&start, &start_tm);
  ::localtime_r(&now, &now_tm);
  char text[16];
  const bool today = start_tm.tm_year == now_tm.tm_year && start_tm.tm_yday == now_tm.tm_yday;
  std::strftime(text, sizeof text, today ? "%H:%M" : "%b%d", &start_tm);
  return text;
}

std::string tty_name(unsigned long long tty_nr) {
  if (tty_nr == 0) return "?";
  const unsigned major_number = ::major(tty_nr);
  const unsigned minor_number = ::minor(tty_nr);
  if (major_number >= 136 && major_number <= 143)
    return fmt::format("pts/{}", (major_number - 136) * 256 + minor_number);
  if (major_number == 4 && minor_number < 64) return fmt::format("tty{}", minor_number);
  if (major_number == 4) return fmt::format("ttyS{}", minor_number - 64);
  return fmt::format("{}:{}", major_number, minor_number);
}

std::optional<PsRow> read_ps_row(pid_t pid) {
  const std::string stat = read_whole(fmt::format("/proc/{}/stat", pid));
  const auto open = stat.find('(');
  const auto close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  // Fields after the command name, from field 3 (state) on.
  std::vector<std::string> fields;
  std::istringstream rest(stat.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 20) return std::nullopt;
  const auto field = [&](int number) { return std::stoull(fields[number - 3]); };
  auto uid = real_uid(pid);
  if (!uid) return std::nullopt;

  const long ticks = ::sysconf(_SC_CLK_TCK);
  const unsigned long long cpu_ticks = field(14) + field(15);
  const unsigned long long start_ticks = field(22);
  const double age = uptime_seconds() - static_cast<double>(start_ticks) / ticks;
  PsRow row;
  row.user = user_name(*uid);
  row.pid = pid;
  row.ppid = static_cast<pid_t>(field(4));
  row.cpu_percent =
      age > 0 ? std::min(99, static_cast<int>(static_cast<double>(cpu_ticks) / ticks * 100 / age))
              : 0;
  row.start = format_start_time(boot_time() + static_cast<std::time_t>(start_ticks / ticks),
                                std::time(nullptr));
  row.tty = tty_name(field(7));
  row.cpu_time = format_cpu_time(cpu_ticks / ticks);
  std::string cmdline = read_whole(fmt::format("/proc/{}/cmdline", pid));
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  row.command = cmdline.empty() ? "[" + stat.substr(open + 1, close - open - 1) + "]" : cmdline;
  return row;
}

std::string format_ps_table(const std::vector<PsRow>& rows) {
  constexpr const char* kRow = "{:<8} {:>7} {:>7} {:>2} {:<5} {:<8} {:>8} {}\n";
  std::string out = fmt::format(kRow, "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
  for (const PsRow& row : rows)
    out += fmt::format(kRow, row.user, row.pid, row.ppid, row.cpu_percent, row.start, row.tty,
                       row.cpu_time, row.command);
  return out;
}

}  // namespace corral::cli
