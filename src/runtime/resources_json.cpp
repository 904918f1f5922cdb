#include "runtime/resources_json.hpp"

#include "runtime/spec/config_fragment.hpp"

namespace corral {
namespace {

template <class T>
void put(nlohmann::json& object, const char* key, const std::optional<T>& value) {
  if (value) object[key] = *value;
}

}  // namespace

nlohmann::json resources_to_json(const Resources& resources) {
  nlohmann::json out = nlohmann::json::object();
  if (resources.memory) {
    nlohmann::json memory = nlohmann::json::object();
    put(memory, "limit", resources.memory->limit);
    put(memory, "reservation", resources.memory->reservation);
    put(memory, "swap", resources.memory->swap);
    put(memory, "swappiness", resources.memory->swappiness);
    put(memory, "disableOOMKiller", resources.memory->disable_oom_killer);
    out["memory"] = std::move(memory);
  }
  if (resources.cpu) {
    nlohmann::json cpu = nlohmann::json::object();
    put(cpu, "shares", resources.cpu->shares);
    put(cpu, "quota", resources.cpu->quota);
    put(cpu, "period", resources.cpu->period);
    if (!resources.cpu->cpus.empty()) cpu["cpus"] = resources.cpu->cpus;
    if (!resources.cpu->mems.empty()) cpu["mems"] = resources.cpu->mems;
    out["cpu"] = std::move(cpu);
  }
  if (resources.pids) out["pids"] = {{"limit", resources.pids->limit}};
  if (!resources.devices.empty()) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& rule : resources.devices) {
      nlohmann::json entry{{"allow", rule.allow}, {"access", rule.access}};
      entry["type"] = std::string(1, rule.type);
      put(entry, "major", rule.major);
      put(entry, "minor", rule.minor);
      devices.push_back(std::move(entry));
    }
    out["devices"] = std::move(devices);
  }
  return out;
}

Expected<Resources> parse_resources_json(std::string_view json_text, std::string_view source) {
  auto config =
      parse_config_fragment(json_text, source, "/linux/resources", "a JSON object of resources");
  if (!config) return fail(std::move(config).error());
  return config->linux_spec.resources.value_or(Resources{});
}

}  // namespace corral
