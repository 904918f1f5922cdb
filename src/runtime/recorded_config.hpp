#pragma once
// The configuration a container's state.json records, in its "config" object:
//   "corral"           the Config as the init protocol writes it (protocol::config_to_json)
//   "hooks"            its hooks
//   "linux_resources"  the limits as created (once a configuration was read back, with
//                      `update`'s changes folded in: the same limits when applied again)
//   "resources"        what `update` changed since (container_update.cpp)
// Factory::load reads it to address a container from disk; a parked Container (a supervisor's
// running container, whose configuration is not held in memory) reads it back when needed.
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

// Whether state.json's "config" holds a recorded configuration (older files did not).
bool has_recorded_config(const nlohmann::json& recorded);

// The recorded Config with its hooks, and the limits as created with `update`'s changes on top
// (what the cgroup has now). Errors name container `id` and the file `source`.
Expected<Config> config_from_record(const nlohmann::json& recorded, const std::string& id,
                                    const std::string& source);

}  // namespace corral
