#pragma once
// Small readers for /proc files (mountinfo, cgroup), without iostreams.
#include <string>
#include <vector>

namespace corral::init {

// The whole file, or false with errno set.
bool read_whole_file(const char* path, std::string& out);

struct MountInfo {
  std::string root;  // the mount's root within its filesystem
  std::string mount_point;
  std::string fs_type;
  std::vector<std::string> super_options;  // "rw", "cpu", "cpuacct", "name=systemd", ...
};
// Parses /proc/self/mountinfo text (octal escapes in paths decoded).
std::vector<MountInfo> parse_mountinfo(const std::string& text);

struct CgroupMembership {
  std::string hierarchy_id;
  std::vector<std::string> controllers;  // empty for cgroup v2 ("0::/path")
  std::string path;
};
std::vector<CgroupMembership> parse_proc_cgroup(const std::string& text);

std::vector<std::string> split(const std::string& text, char separator);

}  // namespace corral::init
