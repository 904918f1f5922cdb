#include "runtime/recorded_config.hpp"

#include "runtime/hooks.hpp"
#include "runtime/resources_json.hpp"
#include "runtime/spec/protocol.hpp"

namespace corral {

bool has_recorded_config(const nlohmann::json& recorded) {
  return recorded.is_object() && recorded.contains("corral");
}

Expected<Config> config_from_record(const nlohmann::json& recorded, const std::string& id,
                                    const std::string& source) {
  const std::string context = "load container " + id + ": " + source;
  if (!has_recorded_config(recorded))
    return fail(Error(ErrorCode::ConfigInvalid, context + ": no configuration recorded"));
  auto parsed = protocol::config_from_json(recorded["corral"]);
  if (!parsed) return fail(std::move(parsed).error().with_context(context));
  Config config = std::move(*parsed);
  if (auto hooks = recorded.find("hooks"); hooks != recorded.end())
    config.hooks = hooks_from_json(*hooks);
  nlohmann::json limits = recorded.value("linux_resources", nlohmann::json::object());
  if (auto updated = recorded.find("resources"); updated != recorded.end() && updated->is_object())
    limits.merge_patch(*updated);
  if (limits.is_object() && !limits.empty()) {
    auto resources = parse_resources_json(limits.dump(), source);
    if (!resources) return fail(std::move(resources).error().with_context(context));
    config.linux_spec.resources = std::move(*resources);
  }
  return config;
}

}  // namespace corral
