#include "runtime/cgroups/v2_manager.hpp"

#include <algorithm>

#include "runtime/cgroups/cgroupfs.hpp"
#include "runtime/cgroups/manager_support.hpp"
#include "runtime/cgroups/resource_values.hpp"

namespace corral::cgroups {
namespace {

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  text = fs::trim(text);
  while (!text.empty()) {
    const auto space = text.find_first_of(" \t\n");
    out.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text = fs::trim(text.substr(space));
  }
  return out;
}

}  // namespace

V2Manager::V2Manager(std::string root, std::string relative_path, ManagerOptions options)
    : root_(std::move(root)),
      relative_path_(std::move(relative_path)),
      dir_(relative_path_.empty() ? root_ : root_ + relative_path_),
      options_(options) {}

std::string V2Manager::file(std::string_view name) const {
  return fs::join(dir_, name);
}

std::map<std::string, std::string> V2Manager::paths() const {
  return {{std::string(kUnifiedKey), dir_}};
}

std::string V2Manager::oom_events_path() const {
  return file("memory.events");
}

// Makes every controller the directory has available also available to its children.
Expected<void> V2Manager::enable_controllers(const std::string& dir) {
  auto available = fs::read_file(fs::join(dir, "cgroup.controllers"));
  if (!available) return fail(std::move(available.error()).with_context("enable controllers"));
  auto enabled = fs::read_file(fs::join(dir, "cgroup.subtree_control"));
  if (!enabled) return fail(std::move(enabled.error()).with_context("enable controllers"));
  const auto enabled_words = words(*enabled);
  std::string request;
  for (const auto controller : words(*available)) {
    if (std::find(enabled_words.begin(), enabled_words.end(), controller) != enabled_words.end()) {
      continue;
    }
    if (!request.empty()) request += ' ';
    request += '+';
    request += controller;
  }
  if (request.empty()) return {};
  // One write for all of them: the kernel applies the whole list or fails naming none.
  return write_with_context(fs::join(dir, "cgroup.subtree_control"), request, "enable controllers");
}

Expected<void> V2Manager::create() {
  if (auto made = fs::make_dirs(dir_); !made) {
    return fail(std::move(made.error()).with_context("create cgroup"));
  }
  // Top-down from the root to the group's parent: a controller can be enabled for a child only
  // once its parent has it.
  std::string at = root_;
  std::string_view rest = relative_path_;
  while (true) {
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    if (rest.empty()) break;
    if (auto enabled = enable_controllers(at); !enabled) return enabled;
    const auto slash = rest.find('/');
    at = fs::join(at, rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  return {};
}

Expected<void> V2Manager::apply(const Resources& resources) {
  // v2 checks device access with an eBPF program attached to the group, which corral does not
  // build yet: refuse rather than run the container with devices it should not have.
  if (!device_rules_allow_everything(resources.devices)) {
    return fail(Error(ErrorCode::Unsupported,
                      "linux.resources.devices: device rules on cgroup v2 need an eBPF device "
                      "program, which corral does not support yet (group " +
                          dir_ + ")"));
  }
  if (resources.memory) {
    if (auto applied = apply_memory(*resources.memory); !applied) return applied;
  }
  if (resources.cpu) {
    if (auto applied = apply_cpu(*resources.cpu); !applied) return applied;
  }
  if (resources.pids) {
    const auto limit = resources.pids->limit;
    auto written = write_with_context(
        file("pids.max"), limit > 0 ? std::to_string(limit) : std::string("max"), "set pids limit");
    if (!written) return written;
  }
  return {};
}

Expected<void> V2Manager::apply_memory(const MemoryResources& memory) {
  if (memory.disable_oom_killer.value_or(false)) {
    return fail(Error(ErrorCode::Unsupported,
                      "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM "
                      "killer (group " +
                          dir_ + ")"));
  }
  // memory.swappiness has no v2 file: it is ignored there, as runc does.
  std::optional<std::string> swap_max;
  if (memory.swap) {
    auto value = swap_max_value(*memory.swap, memory.limit);
    if (!value) return fail(std::move(value.error()));
    swap_max = std::move(*value);
  }
  if (memory.reservation) {
    auto written = write_with_context(file("memory.low"), v2_memory_value(*memory.reservation),
                                      "set memory reservation");
    if (!written) return written;
  }
  // Unlike v1, memory.max and memory.swap.max are independent: any order works.
  if (memory.limit) {
    auto written =
        write_with_context(file("memory.max"), v2_memory_value(*memory.limit), "set memory limit");
    if (!written) return written;
  }
  if (swap_max) {
    auto written = write_with_context(file("memory.swap.max"), *swap_max, "set swap limit");
    if (!written) return written;
  }
  return {};
}

Expected<void> V2Manager::apply_cpu(const CpuResources& cpu) {
  if (cpu.shares && *cpu.shares) {
    auto written =
        write_with_context(file("cpu.weight"), std::to_string(shares_to_weight(*cpu.shares)),
                           "set cpu weight from shares " + std::to_string(*cpu.shares));
    if (!written) return written;
  }
  // Zero quota or period mean "not set", as in runc.
  const auto quota = cpu.quota && *cpu.quota ? cpu.quota : std::nullopt;
  const auto period = cpu.period && *cpu.period ? cpu.period : std::nullopt;
  if (const auto max = cpu_max_value(quota, period)) {
    auto written = write_with_context(file("cpu.max"), *max, "set cpu quota/period");
    if (!written) return written;
  }
  if (!cpu.cpus.empty()) {
    auto written = write_with_context(file("cpuset.cpus"), cpu.cpus, "set cpuset cpus");
    if (!written) return written;
  }
  if (!cpu.mems.empty()) {
    auto written = write_with_context(file("cpuset.mems"), cpu.mems, "set cpuset mems");
    if (!written) return written;
  }
  return {};
}

Expected<void> V2Manager::add_process(pid_t pid) {
  const auto pid_text = std::to_string(pid);
  return write_with_context(file("cgroup.procs"), pid_text, "add process " + pid_text);
}

Expected<std::vector<pid_t>> V2Manager::procs() const {
  return read_procs_union({dir_});
}

Expected<Stats> V2Manager::stats() const {
  Stats stats;
  const std::pair<std::string_view, std::optional<std::uint64_t>*> plain[] = {
      {"memory.current", &stats.memory_usage_bytes},
      {"memory.peak", &stats.memory_max_usage_bytes},
      {"pids.current", &stats.pids_current},
  };
  for (const auto& [name, out] : plain) {
    auto value = fs::read_u64_if_exists(file(name));
    if (!value) return fail(std::move(value.error()));
    *out = *value;
  }
  auto usage_usec = fs::read_keyed_u64_if_exists(file("cpu.stat"), "usage_usec");
  if (!usage_usec) return fail(std::move(usage_usec.error()));
  if (*usage_usec) stats.cpu_usage_ns = **usage_usec * 1000;
  auto oom_kills = fs::read_keyed_u64_if_exists(file("memory.events"), "oom_kill");
  if (!oom_kills) return fail(std::move(oom_kills.error()));
  stats.oom_kill_count = *oom_kills;
  return stats;
}

Expected<FreezerState> V2Manager::freezer_state() const {
  auto requested = fs::read_file_if_exists(file("cgroup.freeze"));
  if (!requested) return fail(std::move(requested.error()));
  // The root group has no cgroup.freeze: it is never frozen.
  if (!*requested || fs::trim(**requested) != "1") return FreezerState::Thawed;
  auto frozen = fs::read_keyed_u64_if_exists(file("cgroup.events"), "frozen");
  if (!frozen) return fail(std::move(frozen.error()));
  return *frozen && **frozen == 1 ? FreezerState::Frozen : FreezerState::Freezing;
}

Expected<void> V2Manager::set_frozen(bool want) {
  const auto what = want ? "freeze" : "thaw";
  if (auto written = write_with_context(file("cgroup.freeze"), want ? "1" : "0", what); !written) {
    return written;
  }
  const auto events = file("cgroup.events");
  auto reached = poll_until(
      [&]() -> Expected<bool> {
        auto frozen = fs::read_keyed_u64_if_exists(events, "frozen");
        if (!frozen) return fail(std::move(frozen.error()));
        return *frozen && (**frozen == 1) == want;
      },
      options_.freeze_timeout);
  if (!reached) return fail(std::move(reached.error()));
  if (!*reached) {
    if (want) (void)fs::write_file(file("cgroup.freeze"), "0");  // do not leave it half frozen
    return fail(Error(ErrorCode::SystemError, std::string(what) + " " + dir_ + ": " + events +
                                                  " did not say frozen " + (want ? "1" : "0") +
                                                  " within " +
                                                  std::to_string(options_.freeze_timeout.count()) +
                                                  " ms" + (want ? "; thawed again" : "")));
  }
  return {};
}

Expected<void> V2Manager::freeze() {
  return set_frozen(true);
}
Expected<void> V2Manager::thaw() {
  return set_frozen(false);
}

Expected<void> V2Manager::kill_all(int signal) {
  return signal_all_processes(*this, signal);
}

Expected<void> V2Manager::destroy() {
  return remove_dirs_retrying({dir_}, options_);
}

}  // namespace corral::cgroups
