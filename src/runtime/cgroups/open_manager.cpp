// The factory functions of manager.hpp: from a spec and the host's layout, or from recorded paths.
#include "runtime/cgroups/cgroup_path.hpp"
#include "runtime/cgroups/cgroupfs.hpp"
#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/v1_manager.hpp"
#include "runtime/cgroups/v2_manager.hpp"

namespace corral::cgroups {

Expected<std::unique_ptr<Manager>> open_manager(const CgroupSpec& spec) {
  auto layout = detect_layout(spec.mountinfo_path);
  if (!layout) return fail(std::move(layout.error()));
  return open_manager(spec, *layout);
}

Expected<std::unique_ptr<Manager>> open_manager(const CgroupSpec& spec,
                                                const CgroupLayout& layout) {
  auto path = resolve_cgroup_path(spec.cgroups_path, spec.parent, spec.container_id);
  if (!path) return fail(std::move(path.error()));
  if (layout.version == Version::V2) {
    return std::unique_ptr<Manager>(
        std::make_unique<V2Manager>(layout.unified_root, *path, spec.options));
  }
  ManagerOptions options = spec.options;
  options.parent_is_ours = spec.cgroups_path.empty() && fs::parent_dir(*path) != "/";
  return std::unique_ptr<Manager>(
      std::make_unique<V1Manager>(GroupDirs(layout.v1_roots, *path), options));
}

Expected<std::unique_ptr<Manager>> open_manager_from_paths(
    const std::map<std::string, std::string>& paths, ManagerOptions options) {
  if (paths.empty()) {
    return fail(Error(ErrorCode::SystemError, "re-open cgroup: no cgroup paths were recorded"));
  }
  std::map<std::string, std::string> dirs;
  for (const auto& [controller, path] : paths) {
    auto normalized = normalize_absolute_path(path);
    // A recorded path that is relative, has "..", or is "/" would let destroy() rmdir elsewhere.
    if (normalized.empty() || normalized == "/") {
      return fail(Error(ErrorCode::ConfigInvalid, "re-open cgroup: recorded path \"" + path +
                                                      "\" for controller \"" + controller +
                                                      "\" is not an absolute group directory"));
    }
    dirs[controller] = std::move(normalized);
  }
  if (const auto unified = dirs.find(std::string(kUnifiedKey)); unified != dirs.end()) {
    if (dirs.size() != 1) {
      return fail(Error(ErrorCode::ConfigInvalid,
                        "re-open cgroup: recorded paths mix the unified hierarchy with v1 "
                        "controllers"));
    }
    return std::unique_ptr<Manager>(std::make_unique<V2Manager>(unified->second, "", options));
  }
  return std::unique_ptr<Manager>(std::make_unique<V1Manager>(GroupDirs::from_dirs(dirs), options));
}

}  // namespace corral::cgroups
