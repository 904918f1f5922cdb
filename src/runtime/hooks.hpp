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

// Where a hook runs when not in the runtime's namespaces: in those of a container's init (the
// createContainer and startContainer hooks, as the OCI spec asks). The hook process joins each
// namespace the config lists (created or joined) through /proc/<init_pid>/ns/, its user
// namespace first (becoming its root), and is born in the init's PID namespace. Before
// pivot_root (createContainer) the init's mount namespace still shows the host's tree, so the
// hook's path resolves as in the runtime's; after it (startContainer) it resolves in the
// container, as the spec says. The time namespace is not joined.
struct ContainerNamespaces {
  pid_t init_pid = 0;
  std::vector<NamespaceType> types;
};

// Runs one hook: argv is {hook.path, hook.args[1..]} (args[0] is replaced by the path, which is
// what is executed), the environment exactly hook.env, stdout discarded, stderr kept for the
// error message. `kind` ("prestart", ...) and `container_id` only name the hook in errors.
// `in`: null for the runtime's namespaces.
reactor::Task<Expected<void>> run_hook(const Hook& hook, std::string state_json, std::string kind,
                                       std::string container_id,
                                       const ContainerNamespaces* in = nullptr);

// Runs hooks in order, stopping at the first failure.
reactor::Task<Expected<void>> run_hooks(const std::vector<Hook>& hooks, std::string state_json,
                                        std::string kind, std::string container_id,
                                        const ContainerNamespaces* in = nullptr);

// The config's hooks as OCI JSON ("prestart": [{"path", "args", "env", "timeout"}], ...) and
// back, so a loaded container still knows its poststop hooks.
nlohmann::json hooks_to_json(const Hooks& hooks);
Hooks hooks_from_json(const nlohmann::json& json);

}  // namespace corral
