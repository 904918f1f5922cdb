#pragma once
// Resources as OCI linux.resources JSON (memory, cpu, pids, devices), the shape config.json and
// `runc update -r` use; fields that are not set are left out.
#include <nlohmann/json.hpp>

#include <string_view>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

nlohmann::json resources_to_json(const Resources& resources);

// Parses a linux.resources JSON object with the config.json parser, so the same fields are
// accepted or refused (blockIO, hugepageLimits, ... are refused there; see config_parser.hpp).
// `source` names the text in errors ("update -r limits.json").
Expected<Resources> parse_resources_json(std::string_view json_text, std::string_view source);

}  // namespace corral
