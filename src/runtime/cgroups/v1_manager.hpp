#pragma once
// V1Manager: cgroup v1, one hierarchy per controller (/sys/fs/cgroup/memory, .../cpu, ...). The
// group is a directory of the same relative path in each hierarchy.
#include <map>
#include <string>
#include <vector>

#include "runtime/cgroups/group_dirs.hpp"
#include "runtime/cgroups/manager.hpp"

namespace corral::cgroups {

class V1Manager final : public Manager {
 public:
  V1Manager(GroupDirs dirs, ManagerOptions options);

  Version version() const override { return Version::V1; }
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
  std::map<std::string, std::string> paths() const override { return dirs_.all(); }
  std::string oom_events_path() const override;

 private:
  // The group's directory for `controller`, or an Unsupported error saying what needed it.
  Expected<std::string> dir_for(const std::string& controller, std::string_view purpose) const;
  std::string file(const std::string& controller, std::string_view name) const;
  // Each directory once (co-mounted controllers share one).
  std::vector<std::string> unique_dirs() const;

  Expected<void> apply_memory(const MemoryResources& memory);
  Expected<void> apply_cpu(const CpuResources& cpu);
  Expected<void> apply_devices(const std::vector<DeviceRule>& rules);
  Expected<void> fill_cpuset(const std::string& dir);
  Expected<void> prepare_cpuset_parent(const std::string& parent);

  GroupDirs dirs_;
  ManagerOptions options_;
};

}  // namespace corral::cgroups
