#include "runtime/cgroups/layout.hpp"

#include <array>
#include <vector>

#include "runtime/cgroups/cgroupfs.hpp"

namespace corral::cgroups {
namespace {

constexpr std::string_view kDefaultRoot = "/sys/fs/cgroup";

// v1 mount options that name a controller; the others (rw, xattr, release_agent=...) do not.
constexpr std::array<std::string_view, 15> kV1Controllers = {
    "blkio",  "cpu",  "cpuacct", "cpuset",   "debug",      "devices", "freezer", "hugetlb",
    "memory", "misc", "net_cls", "net_prio", "perf_event", "pids",    "rdma"};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

bool is_v1_controller(std::string_view option) {
  if (option.starts_with("name=") && option.size() > 5) return true;
  for (const auto name : kV1Controllers) {
    if (option == name) return true;
  }
  return false;
}

struct MountEntry {
  std::string mount_point;
  std::string_view fs_type;
  std::string_view super_options;
};

// "36 25 0:32 / /sys/fs/cgroup/memory rw,relatime shared:1 - cgroup cgroup rw,memory"
bool parse_line(std::string_view line, MountEntry& entry) {
  std::vector<std::string_view> fields;
  for (const auto field : split(line, ' ')) {
    if (!field.empty()) fields.push_back(field);
  }
  std::size_t dash = 6;  // optional fields sit between the sixth field and the "-"
  while (dash < fields.size() && fields[dash] != "-") ++dash;
  if (fields.size() < 7 || dash + 3 >= fields.size()) return false;
  entry.mount_point = unescape_mountinfo_field(fields[4]);
  entry.fs_type = fields[dash + 1];
  entry.super_options = fields[dash + 3];  // after the type and the source
  return true;
}

}  // namespace

std::string unescape_mountinfo_field(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

Expected<CgroupLayout> parse_layout(std::string_view mountinfo, std::string_view source) {
  CgroupLayout layout;
  std::string other_unified_root;
  bool pure_v2 = false;
  for (const auto line : split(mountinfo, '\n')) {
    MountEntry entry;
    if (line.empty() || !parse_line(line, entry)) continue;
    if (entry.fs_type == "cgroup2") {
      // A later mount on the same point shadows an earlier one, so the last word wins.
      if (entry.mount_point == kDefaultRoot) {
        pure_v2 = true;
      } else {
        other_unified_root = entry.mount_point;
      }
    } else if (entry.fs_type == "cgroup") {
      if (entry.mount_point == kDefaultRoot) pure_v2 = false;
      for (const auto option : split(entry.super_options, ',')) {
        if (is_v1_controller(option)) layout.v1_roots[std::string(option)] = entry.mount_point;
      }
    } else if (entry.mount_point == kDefaultRoot) {
      pure_v2 = false;  // e.g. the tmpfs that holds the v1 hierarchies
    }
  }
  if (pure_v2) {
    layout.version = Version::V2;
    layout.unified_root = std::string(kDefaultRoot);
    layout.v1_roots.clear();
    return layout;
  }
  if (!layout.v1_roots.empty()) {
    layout.version = Version::V1;
    return layout;
  }
  if (!other_unified_root.empty()) {
    layout.version = Version::V2;
    layout.unified_root = other_unified_root;
    return layout;
  }
  return fail(Error(ErrorCode::Unsupported, "no cgroup or cgroup2 filesystem is mounted (read " +
                                                std::string(source) +
                                                "); corral needs cgroupfs to limit containers"));
}

Expected<CgroupLayout> detect_layout(const std::string& mountinfo_path) {
  auto text = fs::read_file(mountinfo_path);
  if (!text) return fail(std::move(text.error()).with_context("detect cgroup layout"));
  return parse_layout(*text, mountinfo_path);
}

}  // namespace corral::cgroups
