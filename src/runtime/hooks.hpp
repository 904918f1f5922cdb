#pragma once
// OCI hooks: programs the runtime runs at points of a container's life, each given the
// container's OCI state JSON on stdin. A hook that exits non-zero, is killed or outlives its
// timeout has failed; whether that fails the operation depends on the hook's kind (the caller
// decides: prestart/createRuntime/createContainer/startContainer fail it, poststart/poststop
// are only logged).
#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reactor/task.hpp"
#include "runtime/container_state.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

// The OCI runtime-spec state object given to hooks on stdin (and printed by `corral state`).
nlohmann::json oci_state_json(const std::string& id, ContainerStatus status, pid_t pid,
                              const std::string& bundle,
                              const std::map<std::string, std::string>& annotations);

// Runs one hook: argv is {hook.path, hook.args[1..]} (args[0] is replaced by the path, which is
// what is executed), the environment exactly hook.env, stdout discarded, stderr kept for the
// error message. `kind` ("prestart", ...) and `container_id` only name the hook in errors.
reactor::Task<Expected<void>> run_hook(const Hook& hook, std::string state_json, std::string kind,
                                       std::string container_id);

// Runs hooks in order, stopping at the first failure.
reactor::Task<Expected<void>> run_hooks(const std::vector<Hook>& hooks, std::string state_json,
                                        std::string kind, std::string container_id);

// The config's hooks as OCI JSON ("prestart": [{"path", "args", "env", "timeout"}], ...) and
// back, so a loaded container still knows its poststop hooks.
nlohmann::json hooks_to_json(const Hooks& hooks);
Hooks hooks_from_json(const nlohmann::json& json);

}  // namespace corral
