#pragma once
// V2Manager: the unified hierarchy (cgroup2). The group is one directory; controllers are
// enabled for it through the cgroup.subtree_control of each ancestor.
#include <map>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"

namespace corral::cgroups {

class V2Manager final : public Manager {
 public:
  // `root`: the cgroup2 mount point; `relative_path`: the group below it ("/corral/abc").
  // A manager re-opened from state.json knows only the group's directory: pass it as `root` with
  // an empty `relative_path`; its create() then enables no controller on ancestors.
  V2Manager(std::string root, std::string relative_path, ManagerOptions options);

  Version version() const override { return Version::V2; }
  Expected<void> create() override;
  Expected<void> apply(const Resources& resources) override;
  Expected<void> add_process(pid_t pid) override;
  Expected<std::vector<pid_t>> procs() const override;
  Expected<Stats> stats() const override;
  Expected<void> freeze() override;
  Expected<void> thaw() override;
  Expected<FreezerState> freezer_state() const override;
  Expected<void> kill_all(int signal) override;
  Expected<void> destroy() override;
  std::map<std::string, std::string> paths() const override;
  std::string oom_events_path() const override;

 private:
  std::string file(std::string_view name) const;
  Expected<void> enable_controllers(const std::string& dir);
  Expected<void> apply_memory(const MemoryResources& memory);
  Expected<void> apply_cpu(const CpuResources& cpu);
  // Writes cgroup.freeze and waits until cgroup.events says frozen == want.
  Expected<void> set_frozen(bool want);

  std::string root_;
  std::string relative_path_;
  std::string dir_;
  ManagerOptions options_;
};

}  // namespace corral::cgroups
