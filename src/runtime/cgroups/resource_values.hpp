#pragma once
// The values written to cgroup files, computed from the OCI resources: pure functions, shared by
// the v1 and v2 managers and tested without a kernel.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cgroups {

// v1 cpu.shares (2..262144) -> v2 cpu.weight (1..10000), mapping the ends onto each other.
std::uint64_t shares_to_weight(std::uint64_t shares);

// v2 cpu.max: "QUOTA PERIOD", "max PERIOD", or "QUOTA" alone (the kernel keeps the period);
// nullopt when neither is set. A quota <= 0 means no limit ("max").
std::optional<std::string> cpu_max_value(std::optional<std::int64_t> quota,
                                         std::optional<std::uint64_t> period);

// v2 memory.swap.max from OCI's memory.swap, which is memory + swap together: swap - limit,
// "max" for -1. Refused (ConfigInvalid) without a memory limit or when below it.
Expected<std::string> swap_max_value(std::int64_t swap, std::optional<std::int64_t> limit);

// A memory value: -1 (or any negative) is unlimited, written "max" on v2 and "-1" on v1.
std::string v2_memory_value(std::int64_t value);

// The v1 devices.allow/devices.deny line for a rule ("c 1:3 rwm", "a *:* rwm"); the rule's place
// in linux.resources.devices names it in a ConfigInvalid error.
Expected<std::string> device_rule_line(const DeviceRule& rule, std::size_t index);

// True when the rules, applied in order over a default deny-all, end up allowing every access
// to every device: the only case v2 can honour without an eBPF device program. An empty list
// counts as "leave devices alone", also trivial.
bool device_rules_allow_everything(const std::vector<DeviceRule>& rules);

}  // namespace corral::cgroups
