#include "runtime/cgroups/cgroup_path.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace corral::cgroups {
namespace {

// Splits on '/', dropping empty and "." components; nullopt when a ".." component is present.
std::optional<std::vector<std::string_view>> components(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    parts.push_back(part);
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (const auto part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

Error invalid(std::string what) {
  return Error(ErrorCode::ConfigInvalid, std::move(what));
}

}  // namespace

bool is_systemd_cgroup_path(std::string_view cgroups_path) {
  if (cgroups_path.empty() || cgroups_path.front() == '/') return false;
  const auto colons = std::count(cgroups_path.begin(), cgroups_path.end(), ':');
  const auto first = cgroups_path.substr(0, cgroups_path.find(':'));
  return colons == 2 && first.find('/') == std::string_view::npos;
}

std::string normalize_absolute_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) return {};
  const auto parts = components(path);
  if (!parts) return {};
  return parts->empty() ? std::string("/") : join(*parts);
}

Expected<std::string> resolve_cgroup_path(std::string_view cgroups_path, std::string_view parent,
                                          std::string_view container_id) {
  std::string described;  // how the path is named in an error
  std::string raw;
  if (cgroups_path.empty()) {
    if (container_id.empty()) return fail(invalid("cgroup path: no container id for the default"));
    described = "default cgroup path for container " + std::string(container_id);
    raw = std::string(parent) + "/" + std::string(container_id);
  } else {
    described = "linux.cgroupsPath \"" + std::string(cgroups_path) + "\"";
    if (is_systemd_cgroup_path(cgroups_path)) {
      return fail(Error(ErrorCode::Unsupported,
                        described +
                            ": systemd \"slice:prefix:name\" paths are not supported; corral "
                            "manages cgroupfs directly, give a path like /corral/<id>"));
    }
    raw = cgroups_path.front() == '/' ? std::string(cgroups_path)
                                      : std::string(parent) + "/" + std::string(cgroups_path);
  }
  if (raw.find('\0') != std::string::npos) return fail(invalid(described + ": has a NUL byte"));
  const auto parts = components(raw);
  if (!parts) {
    return fail(
        invalid(described + " (\"" + raw + "\"): a \"..\" component could leave the cgroup root"));
  }
  if (parts->empty()) {
    return fail(invalid(described + ": resolves to the cgroup root itself, which a container "
                                    "must not own"));
  }
  return join(*parts);
}

}  // namespace corral::cgroups
