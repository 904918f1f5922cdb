#pragma once
// GroupDirs: a cgroup v1 group's directory in each controller's hierarchy, held as the
// hierarchies' mount points (one copy shared by every group with the same layout) and the
// group's one path below them. A supervisor of thousands holds each group's ~15 directories
// as one short string instead of ~15 map entries.
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace corral::cgroups {

class GroupDirs {
 public:
  // `roots`: controller -> the hierarchy's mount point; `below`: the group's path under each
  // ("/corral/<id>"). Empty `below` (directories that share no tail): the roots are the
  // group's own, not shared.
  GroupDirs(const std::map<std::string, std::string>& roots, std::string below);
  // From absolute directories as recorded (state.json): split at the longest tail, starting
  // with '/', that all of them share, so that any set of directories is kept exactly.
  static GroupDirs from_dirs(const std::map<std::string, std::string>& dirs);

  std::optional<std::string> find(const std::string& controller) const;
  std::map<std::string, std::string> all() const;  // controller -> directory

 private:
  std::shared_ptr<const std::map<std::string, std::string>> roots_;
  std::string below_;
};

}  // namespace corral::cgroups
