#include "runtime/cgroups/resource_values.hpp"

#include <algorithm>

namespace corral::cgroups {
namespace {

constexpr std::uint64_t kMinShares = 2;
constexpr std::uint64_t kMaxShares = 262144;
constexpr std::uint64_t kMaxWeight = 10000;

bool is_wildcard_all(const DeviceRule& rule) {
  return rule.type == 'a';
}

bool has_full_access(const DeviceRule& rule) {
  const auto& a = rule.access;
  return a.find('r') != std::string::npos && a.find('w') != std::string::npos &&
         a.find('m') != std::string::npos;
}

}  // namespace

std::uint64_t shares_to_weight(std::uint64_t shares) {
  shares = std::clamp(shares, kMinShares, kMaxShares);
  // Linear: 2 -> 1, 262144 -> 10000.
  return 1 + ((shares - kMinShares) * (kMaxWeight - 1)) / (kMaxShares - kMinShares);
}

std::optional<std::string> cpu_max_value(std::optional<std::int64_t> quota,
                                         std::optional<std::uint64_t> period) {
  if (!quota && !period) return std::nullopt;
  std::string out = quota && *quota > 0 ? std::to_string(*quota) : std::string("max");
  if (period && *period > 0) out += " " + std::to_string(*period);
  return out;
}

Expected<std::string> swap_max_value(std::int64_t swap, std::optional<std::int64_t> limit) {
  if (swap < 0) return std::string("max");
  if (!limit || *limit < 0) {
    return fail(Error(ErrorCode::ConfigInvalid,
                      "linux.resources.memory.swap " + std::to_string(swap) +
                          ": a swap limit needs a memory limit (swap counts memory + swap)"));
  }
  if (swap < *limit) {
    return fail(
        Error(ErrorCode::ConfigInvalid, "linux.resources.memory.swap " + std::to_string(swap) +
                                            " is below memory.limit " + std::to_string(*limit) +
                                            " (swap counts memory + swap)"));
  }
  return std::to_string(swap - *limit);
}

std::string v2_memory_value(std::int64_t value) {
  return value < 0 ? std::string("max") : std::to_string(value);
}

Expected<std::string> device_rule_line(const DeviceRule& rule, std::size_t index) {
  const std::string where = "linux.resources.devices[" + std::to_string(index) + "]";
  if (rule.type != 'a' && rule.type != 'b' && rule.type != 'c') {
    return fail(Error(ErrorCode::ConfigInvalid,
                      where + ": type \"" + std::string(1, rule.type) + "\" is not a, b or c"));
  }
  if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos) {
    return fail(Error(ErrorCode::ConfigInvalid,
                      where + ": access \"" + rule.access + "\" must be letters of \"rwm\""));
  }
  if ((rule.major && *rule.major < 0) || (rule.minor && *rule.minor < 0)) {
    return fail(Error(ErrorCode::ConfigInvalid, where + ": negative major or minor number"));
  }
  const auto number = [](const std::optional<std::int64_t>& n) {
    return n ? std::to_string(*n) : std::string("*");
  };
  if (rule.type == 'a') return "a *:* " + rule.access;
  return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " +
         rule.access;
}

bool device_rules_allow_everything(const std::vector<DeviceRule>& rules) {
  if (rules.empty()) return true;
  // Only the rules after the last allow-all matter; any of them that denies something narrows.
  auto last_allow_all = rules.end();
  for (auto it = rules.begin(); it != rules.end(); ++it) {
    if (it->allow && is_wildcard_all(*it) && has_full_access(*it)) last_allow_all = it;
  }
  if (last_allow_all == rules.end()) return false;
  return std::none_of(last_allow_all + 1, rules.end(),
                      [](const DeviceRule& rule) { return !rule.allow; });
}

}  // namespace corral::cgroups
