#include "runtime/cgroups/v1_manager.hpp"

#include <algorithm>
#include <limits>

#include "runtime/cgroups/cgroupfs.hpp"
#include "runtime/cgroups/manager_support.hpp"
#include "runtime/cgroups/resource_values.hpp"

namespace corral::cgroups {
namespace {

// How a v1 memory value compares: negative is unlimited, i.e. larger than any number.
std::uint64_t as_unsigned_limit(std::int64_t value) {
  return value < 0 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(value);
}

}  // namespace

V1Manager::V1Manager(GroupDirs dirs, ManagerOptions options)
    : dirs_(std::move(dirs)), options_(options) {}

std::vector<std::string> V1Manager::unique_dirs() const {
  std::vector<std::string> out;
  for (const auto& [controller, dir] : dirs_.all()) {
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  }
  return out;
}

Expected<std::string> V1Manager::dir_for(const std::string& controller,
                                         std::string_view purpose) const {
  auto dir = dirs_.find(controller);
  if (!dir) {
    return fail(Error(ErrorCode::Unsupported, "cgroup v1 controller \"" + controller +
                                                  "\" is not mounted; it is needed for " +
                                                  std::string(purpose)));
  }
  return std::move(*dir);
}

std::string V1Manager::file(const std::string& controller, std::string_view name) const {
  const auto dir = dirs_.find(controller);
  return dir ? fs::join(*dir, name) : std::string();
}

Expected<void> V1Manager::create() {
  const auto cpuset = dirs_.find("cpuset");
  if (cpuset && options_.parent_is_ours)
    if (auto prepared = prepare_cpuset_parent(fs::parent_dir(*cpuset)); !prepared) return prepared;
  for (const auto& dir : unique_dirs()) {
    if (auto made = fs::make_dirs(dir); !made) {
      return fail(std::move(made.error()).with_context("create cgroup"));
    }
  }
  if (cpuset) return fill_cpuset(*cpuset);
  return {};
}

// Writing a new group's cpus costs the kernel a walk over every sibling group and, in a cpuset
// that balances load, a rebuild of the scheduling domains over every cpuset of the host: with
// thousands of containers under one parent, starting them became quadratic. With the parent's
// cgroup.clone_children set, the kernel gives each new child the parent's cpus and mems at mkdir,
// the very values fill_cpuset would copy down, and nothing is written. Only a parent of corral's
// own gets the flag (options_.parent_is_ours: never the hierarchy's root, never a group the
// config named, whose other children belong to someone else).
Expected<void> V1Manager::prepare_cpuset_parent(const std::string& parent) {
  if (auto made = fs::make_dirs(parent); !made)
    return fail(std::move(made.error()).with_context("create cgroup"));
  if (auto filled = fill_cpuset(parent); !filled) return filled;
  auto flag = fs::read_file(fs::join(parent, "cgroup.clone_children"));
  if (flag && fs::trim(*flag) == "1") return {};
  // Best effort: without it, fill_cpuset writes the values, as it always did.
  (void)fs::write_file(fs::join(parent, "cgroup.clone_children"), "1");
  return {};
}

// A new cpuset group starts with empty cpus and mems, and a process cannot join it (ENOSPC) until
// they are set: copy them down from the nearest ancestor that has them.
Expected<void> V1Manager::fill_cpuset(const std::string& dir) {
  for (const std::string_view name : {"cpuset.cpus", "cpuset.mems"}) {
    std::vector<std::string> empty_dirs;  // deepest first
    std::string at = dir;
    std::string value;
    while (true) {
      auto content = fs::read_file(fs::join(at, name));
      if (!content) return fail(std::move(content.error()).with_context("fill cpuset"));
      value = std::string(fs::trim(*content));
      if (!value.empty()) break;
      empty_dirs.push_back(at);
      if (at == "/") {
        return fail(Error(ErrorCode::SystemError,
                          "fill cpuset of " + dir + ": no ancestor has " + std::string(name)));
      }
      at = fs::parent_dir(at);
    }
    for (auto it = empty_dirs.rbegin(); it != empty_dirs.rend(); ++it) {
      auto written = write_with_context(fs::join(*it, name), value, "fill cpuset");
      if (!written) return written;
    }
  }
  return {};
}

Expected<void> V1Manager::apply(const Resources& resources) {
  if (resources.memory) {
    if (auto applied = apply_memory(*resources.memory); !applied) return applied;
  }
  if (resources.cpu) {
    if (auto applied = apply_cpu(*resources.cpu); !applied) return applied;
  }
  if (resources.pids) {
    auto dir = dir_for("pids", "linux.resources.pids");
    if (!dir) return fail(std::move(dir.error()));
    const auto limit = resources.pids->limit;
    auto written = write_with_context(fs::join(*dir, "pids.max"),
                                      limit > 0 ? std::to_string(limit) : std::string("max"),
                                      "set pids limit");
    if (!written) return written;
  }
  if (!resources.devices.empty()) return apply_devices(resources.devices);
  return {};
}

Expected<void> V1Manager::apply_memory(const MemoryResources& memory) {
  auto dir = dir_for("memory", "linux.resources.memory");
  if (!dir) return fail(std::move(dir.error()));
  const auto path = [&](std::string_view name) { return fs::join(*dir, name); };

  if (memory.reservation) {
    auto written =
        write_with_context(path("memory.soft_limit_in_bytes"), std::to_string(*memory.reservation),
                           "set memory reservation");
    if (!written) return written;
  }

  // memsw (memory + swap) must never be below the memory limit, so the order of the two writes
  // depends on whether the limit grows past the current memsw. Without swap accounting the memsw
  // file is absent and the swap limit is skipped.
  const std::string memsw_path = path("memory.memsw.limit_in_bytes");
  const bool want_swap = memory.swap.has_value() && fs::exists(memsw_path);
  bool swap_first = false;
  if (want_swap && memory.limit) {
    auto current_memsw = fs::read_u64_if_exists(memsw_path);
    if (!current_memsw) return fail(std::move(current_memsw.error()));
    swap_first = *current_memsw && as_unsigned_limit(*memory.limit) > **current_memsw;
  }
  const auto write_swap = [&]() -> Expected<void> {
    if (!want_swap) return {};
    return write_with_context(memsw_path, std::to_string(*memory.swap), "set memory+swap limit");
  };
  if (swap_first) {
    if (auto written = write_swap(); !written) return written;
  }
  if (memory.limit) {
    auto written = write_with_context(path("memory.limit_in_bytes"), std::to_string(*memory.limit),
                                      "set memory limit");
    if (!written) return written;
  }
  if (!swap_first) {
    if (auto written = write_swap(); !written) return written;
  }

  if (memory.swappiness) {
    auto written = write_with_context(path("memory.swappiness"), std::to_string(*memory.swappiness),
                                      "set memory swappiness");
    if (!written) return written;
  }
  if (memory.disable_oom_killer) {
    auto written = write_with_context(path("memory.oom_control"),
                                      *memory.disable_oom_killer ? "1" : "0", "set OOM killer");
    if (!written) return written;
  }
  return {};
}

Expected<void> V1Manager::apply_cpu(const CpuResources& cpu) {
  // Zero shares, quota or period mean "not set", as in runc; -1 quota means no limit.
  const bool needs_cpu =
      (cpu.shares && *cpu.shares) || (cpu.quota && *cpu.quota) || (cpu.period && *cpu.period);
  if (needs_cpu) {
    auto dir = dir_for("cpu", "linux.resources.cpu");
    if (!dir) return fail(std::move(dir.error()));
    if (cpu.shares && *cpu.shares) {
      auto written = write_with_context(fs::join(*dir, "cpu.shares"), std::to_string(*cpu.shares),
                                        "set cpu shares");
      if (!written) return written;
    }
    // The period first: the quota is checked against it.
    if (cpu.period && *cpu.period) {
      auto written = write_with_context(fs::join(*dir, "cpu.cfs_period_us"),
                                        std::to_string(*cpu.period), "set cpu period");
      if (!written) return written;
    }
    if (cpu.quota && *cpu.quota) {
      auto written = write_with_context(fs::join(*dir, "cpu.cfs_quota_us"),
                                        std::to_string(*cpu.quota), "set cpu quota");
      if (!written) return written;
    }
  }
  if (!cpu.cpus.empty() || !cpu.mems.empty()) {
    auto dir = dir_for("cpuset", "linux.resources.cpu.cpus/mems");
    if (!dir) return fail(std::move(dir.error()));
    if (!cpu.cpus.empty()) {
      auto written = write_with_context(fs::join(*dir, "cpuset.cpus"), cpu.cpus, "set cpuset cpus");
      if (!written) return written;
    }
    if (!cpu.mems.empty()) {
      auto written = write_with_context(fs::join(*dir, "cpuset.mems"), cpu.mems, "set cpuset mems");
      if (!written) return written;
    }
  }
  return {};
}

// A default deny-all first, then every rule in order, as runc does: the rules are a whitelist
// whatever the group allowed before.
Expected<void> V1Manager::apply_devices(const std::vector<DeviceRule>& rules) {
  auto dir = dir_for("devices", "linux.resources.devices");
  if (!dir) return fail(std::move(dir.error()));
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    auto line = device_rule_line(rules[i], i);  // check every rule before writing any
    if (!line) return fail(std::move(line.error()));
    lines.push_back(std::move(*line));
  }
  if (auto denied = write_with_context(fs::join(*dir, "devices.deny"), "a", "deny all devices");
      !denied) {
    return denied;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto target = fs::join(*dir, rules[i].allow ? "devices.allow" : "devices.deny");
    auto written = write_with_context(target, lines[i],
                                      "apply linux.resources.devices[" + std::to_string(i) + "]");
    if (!written) return written;
  }
  return {};
}

Expected<void> V1Manager::add_process(pid_t pid) {
  const auto pid_text = std::to_string(pid);
  for (const auto& dir : unique_dirs()) {
    auto written =
        write_with_context(fs::join(dir, "cgroup.procs"), pid_text, "add process " + pid_text);
    if (!written) return written;
  }
  return {};
}

Expected<std::vector<pid_t>> V1Manager::procs() const {
  return read_procs_union(unique_dirs());
}

Expected<Stats> V1Manager::stats() const {
  Stats stats;
  const auto read = [](const std::string& path,
                       std::optional<std::uint64_t>& out) -> Expected<void> {
    if (path.empty()) return {};  // the controller is not mounted
    auto value = fs::read_u64_if_exists(path);
    if (!value) return fail(std::move(value.error()));
    out = *value;
    return {};
  };
  if (auto r = read(file("memory", "memory.usage_in_bytes"), stats.memory_usage_bytes); !r) {
    return fail(std::move(r.error()));
  }
  if (auto r = read(file("memory", "memory.max_usage_in_bytes"), stats.memory_max_usage_bytes);
      !r) {
    return fail(std::move(r.error()));
  }
  if (auto r = read(file("cpuacct", "cpuacct.usage"), stats.cpu_usage_ns); !r) {
    return fail(std::move(r.error()));
  }
  if (auto r = read(file("pids", "pids.current"), stats.pids_current); !r) {
    return fail(std::move(r.error()));
  }
  if (const auto oom = file("memory", "memory.oom_control"); !oom.empty()) {
    auto kills = fs::read_keyed_u64_if_exists(oom, "oom_kill");
    if (!kills) return fail(std::move(kills.error()));
    stats.oom_kill_count = *kills;
  }
  return stats;
}

Expected<FreezerState> V1Manager::freezer_state() const {
  const auto path = file("freezer", "freezer.state");
  if (path.empty()) return FreezerState::Thawed;  // without a freezer nothing is frozen
  auto content = fs::read_file(path);
  if (!content) return fail(std::move(content.error()));
  const auto state = fs::trim(*content);
  if (state == "THAWED") return FreezerState::Thawed;
  if (state == "FREEZING") return FreezerState::Freezing;
  if (state == "FROZEN") return FreezerState::Frozen;
  return fail(Error(ErrorCode::SystemError,
                    "read " + path + ": unknown freezer state \"" + std::string(state) + "\""));
}

Expected<void> V1Manager::freeze() {
  auto dir = dir_for("freezer", "freezing (pause)");
  if (!dir) return fail(std::move(dir.error()));
  const auto state_path = fs::join(*dir, "freezer.state");
  const auto request = [&]() { return write_with_context(state_path, "FROZEN", "freeze"); };
  if (auto written = request(); !written) return written;
  // The kernel answers FREEZING until every task has stopped; writing FROZEN again retries the
  // tasks that were busy in the kernel.
  auto frozen = poll_until(
      [&]() -> Expected<bool> {
        auto state = freezer_state();
        if (!state) return fail(std::move(state.error()));
        return *state == FreezerState::Frozen;
      },
      options_.freeze_timeout, request);
  if (!frozen) return fail(std::move(frozen.error()));
  if (!*frozen) {
    (void)fs::write_file(state_path, "THAWED");  // do not leave it half frozen
    return fail(Error(ErrorCode::SystemError, "freeze " + state_path + ": not FROZEN after " +
                                                  std::to_string(options_.freeze_timeout.count()) +
                                                  " ms; thawed again"));
  }
  return {};
}

Expected<void> V1Manager::thaw() {
  auto dir = dir_for("freezer", "thawing (resume)");
  if (!dir) return fail(std::move(dir.error()));
  const auto state_path = fs::join(*dir, "freezer.state");
  if (auto written = write_with_context(state_path, "THAWED", "thaw"); !written) return written;
  auto thawed = poll_until(
      [&]() -> Expected<bool> {
        auto state = freezer_state();
        if (!state) return fail(std::move(state.error()));
        return *state == FreezerState::Thawed;
      },
      options_.freeze_timeout);
  if (!thawed) return fail(std::move(thawed.error()));
  if (!*thawed) {
    return fail(Error(ErrorCode::SystemError, "thaw " + state_path + ": not THAWED after " +
                                                  std::to_string(options_.freeze_timeout.count()) +
                                                  " ms"));
  }
  return {};
}

Expected<void> V1Manager::kill_all(int signal) {
  return signal_all_processes(*this, signal);
}

Expected<void> V1Manager::destroy() {
  return remove_dirs_retrying(unique_dirs(), options_);
}

std::string V1Manager::oom_events_path() const {
  return file("memory", "memory.oom_control");
}

}  // namespace corral::cgroups
