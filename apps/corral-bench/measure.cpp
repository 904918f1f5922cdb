#include "apps/corral-bench/measure.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace corral::bench {

namespace {

double seconds(const timeval& t) {
  return t.tv_sec + t.tv_usec / 1e6;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "Name:   1234 kB" lines of smaps_rollup.
double smaps_field_kib(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + ":");
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

}  // namespace

double cpu_self_and_children_s() {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) +
         seconds(children.ru_stime);
}

double quantile(std::vector<double> sample, double q) {
  if (sample.empty()) return 0;
  std::sort(sample.begin(), sample.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * sample.size()));
  return sample[std::clamp<std::size_t>(rank, 1, sample.size()) - 1];
}

ProcessMemory memory_of(const std::vector<pid_t>& pids) {
  ProcessMemory total;
  for (pid_t pid : pids) {
    // smaps_rollup starts with the address range line; prefix a newline so every field matches.
    std::string text = "\n" + read_text("/proc/" + std::to_string(pid) + "/smaps_rollup");
    total.rss_kib += smaps_field_kib(text, "Rss");
    total.pss_kib += smaps_field_kib(text, "Pss");
  }
  return total;
}

int descriptors_of(const std::vector<pid_t>& pids) {
  int count = 0;
  for (pid_t pid : pids) {
    DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!dir) continue;
    while (dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++count;
    ::closedir(dir);
  }
  return count;
}

namespace {

// The fields of /proc/PID/stat after the command (which may hold spaces and parentheses: they
// are counted after the last ')'), numbered as in proc(5): the first one is field 3.
std::vector<std::string> stat_fields(pid_t pid) {
  std::string text = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return {};
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> fields{"", "", ""};
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

double cpu_fields(const std::vector<pid_t>& pids, int first, int last) {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (pid_t pid : pids) {
    auto fields = stat_fields(pid);
    for (int i = first; i <= last && i < static_cast<int>(fields.size()); ++i)
      total += std::strtod(fields[i].c_str(), nullptr) / ticks;
  }
  return total;
}

}  // namespace

double cpu_of(const std::vector<pid_t>& pids) {
  return cpu_fields(pids, 14, 15);  // utime, stime
}

std::map<pid_t, double> thread_run_times(const std::vector<pid_t>& pids) {
  std::map<pid_t, double> times;
  for (pid_t pid : pids) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    if (dir == nullptr) continue;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::istringstream in(read_text(tasks + "/" + entry->d_name + "/schedstat"));
      double on_cpu_ns = 0;
      if (in >> on_cpu_ns) times[std::atoi(entry->d_name)] = on_cpu_ns / 1e9;
    }
    ::closedir(dir);
  }
  return times;
}

double run_time_between(const std::map<pid_t, double>& before,
                        const std::map<pid_t, double>& after) {
  double total = 0;
  for (const auto& [tid, seconds] : after) {
    auto earlier = before.find(tid);
    total += seconds - (earlier == before.end() ? 0.0 : earlier->second);
  }
  return total;
}

double cpu_with_reaped_children_of(const std::vector<pid_t>& pids) {
  return cpu_fields(pids, 14, 17);  // utime, stime, cutime, cstime
}

std::vector<pid_t> process_tree(pid_t root, const std::set<pid_t>& pruned) {
  std::multimap<pid_t, pid_t> children;  // parent -> child
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(proc)) {
      pid_t pid = std::atoi(entry->d_name);
      if (pid <= 0) continue;
      auto fields = stat_fields(pid);
      if (fields.size() > 4) children.emplace(std::atoi(fields[4].c_str()), pid);  // field 4: ppid
    }
    ::closedir(proc);
  }
  std::vector<pid_t> tree;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t pid = todo.back();
    todo.pop_back();
    if (pruned.count(pid)) continue;
    tree.push_back(pid);
    auto [from, to] = children.equal_range(pid);
    for (auto it = from; it != to; ++it) todo.push_back(it->second);
  }
  return tree;
}

std::optional<double> cgroup_peak_bytes(const std::string& path) {
  for (const std::string& file : {"/sys/fs/cgroup/memory" + path + "/memory.max_usage_in_bytes",
                                  "/sys/fs/cgroup" + path + "/memory.peak"}) {
    std::string text = read_text(file);
    if (!text.empty()) return std::strtod(text.c_str(), nullptr);
  }
  return std::nullopt;
}

std::optional<double> cgroup_user_memory_bytes(const std::string& path) {
  for (const auto& [file, first, second] :
       {std::tuple{"/sys/fs/cgroup/memory" + path + "/memory.stat", "rss", "cache"},
        std::tuple{"/sys/fs/cgroup" + path + "/memory.stat", "anon", "file"}}) {
    std::ifstream in(file);
    if (!in) continue;
    std::string name;
    double value = 0, total = 0;
    while (in >> name >> value)
      if (name == first || name == second) total += value;
    return total;
  }
  return std::nullopt;
}

bool cgroup_empty(const std::string& path) {
  std::string text = read_text("/sys/fs/cgroup/memory" + path + "/cgroup.procs");
  return text.find_first_not_of(" \n") == std::string::npos;
}

}  // namespace corral::bench
