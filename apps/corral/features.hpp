#pragma once
// `corral features`: the runtime-spec "features" document (features.md of runtime-spec 1.1+),
// which tells Podman/containerd what this runtime can do before they write a config.json. It
// lists only what corral's config parser accepts and its init honours.
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

namespace corral::cli {

nlohmann::ordered_json features_document();

// The lists inside it, exposed so tests can check each name against the spec library
// (parse_mount_options, capability_number, is_known_seccomp_architecture).
const std::vector<std::string_view>& supported_mount_options();
std::span<const std::string_view> supported_capabilities();
std::span<const std::string_view> supported_seccomp_architectures();

}  // namespace corral::cli
