#pragma once
// CgroupLayout: which cgroup filesystems the host mounts, read from /proc/self/mountinfo.
#include <map>
#include <string>
#include <string_view>

#include "runtime/cgroups/manager.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cgroups {

struct CgroupLayout {
  Version version = Version::V1;
  // V2: the cgroup2 mount point, the root of the unified hierarchy.
  std::string unified_root;
  // V1: controller ("memory", "cpu", "name=systemd") -> mount point of its hierarchy. Co-mounted
  // controllers ("cpu,cpuacct") map to the same mount point.
  std::map<std::string, std::string> v1_roots;
};

// Pure v2 when /sys/fs/cgroup itself is cgroup2. Otherwise v1 over the "cgroup" mounts; the
// cgroup2 mount of a hybrid host (/sys/fs/cgroup/unified) is ignored, as it holds no controller
// we set limits with. A host with only a cgroup2 mount elsewhere is v2 there. `source` names the
// text in error messages. No cgroup mount at all: Unsupported.
Expected<CgroupLayout> parse_layout(std::string_view mountinfo, std::string_view source);
Expected<CgroupLayout> detect_layout(const std::string& mountinfo_path = "/proc/self/mountinfo");

// Mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string unescape_mountinfo_field(std::string_view field);

}  // namespace corral::cgroups
