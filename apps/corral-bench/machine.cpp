#include "apps/corral-bench/machine.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace corral::bench {

namespace {

std::string first_line_with(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

std::string after_colon(const std::string& line) {
  auto colon = line.find(':');
  if (colon == std::string::npos) return line;
  auto start = line.find_first_not_of(" \t", colon + 1);
  return start == std::string::npos ? "" : line.substr(start);
}

}  // namespace

std::string program_version(const std::string& program) {
  if (program.empty()) return "";
  std::string command = "'" + program + "' --version 2>/dev/null";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "";
  char buffer[256] = {};
  std::string line = std::fgets(buffer, sizeof buffer, pipe) ? buffer : "";
  ::pclose(pipe);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

nlohmann::ordered_json describe_machine() {
  nlohmann::ordered_json m;
  utsname u{};
  ::uname(&u);
  m["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m["cpus_online"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  m["cpu_model"] = after_colon(first_line_with("/proc/cpuinfo", "model name"));
  m["memory"] = after_colon(first_line_with("/proc/meminfo", "MemTotal"));
  std::ifstream load("/proc/loadavg");
  std::string loadavg;
  std::getline(load, loadavg);
  m["loadavg_at_start"] = loadavg;
  // PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
  std::string os = first_line_with("/etc/os-release", "PRETTY_NAME=");
  os = os.empty() ? "" : os.substr(std::string("PRETTY_NAME=").size());
  if (os.size() >= 2 && os.front() == '"' && os.back() == '"') os = os.substr(1, os.size() - 2);
  m["os"] = os;
  return m;
}

}  // namespace corral::bench
