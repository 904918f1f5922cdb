#pragma once
// Resources as OCI linux.resources JSON (memory, cpu, pids, devices), the shape config.json and
// `runc update -r` use; fields that are not set are left out.
#include <nlohmann/json.hpp>

#include "runtime/spec/config.hpp"

namespace corral {

nlohmann::json resources_to_json(const Resources& resources);

}  // namespace corral
