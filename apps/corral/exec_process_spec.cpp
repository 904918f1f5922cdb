#include "apps/corral/exec_process_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace corral::cli {
namespace {

// runc's --cap takes kernel names (CAP_NET_ADMIN); a name without the prefix gets it.
std::string capability_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
  return name;
}

void add_unique(std::vector<std::string>& set, const std::string& name) {
  if (std::find(set.begin(), set.end(), name) == set.end()) set.push_back(name);
}

}  // namespace

Expected<Process> build_exec_process(const ExecOptions& options,
                                     const std::optional<Process>& container_process,
                                     std::optional<Process> from_file) {
  Process process;
  if (from_file) {
    process = std::move(*from_file);
  } else {
    if (container_process) process = *container_process;
    process.args = options.args;
    // The container's terminal belongs to its init; exec has its own --tty.
    process.terminal = false;
    process.console_size.reset();
  }
  if (process.args.empty())
    return fail(Error(ErrorCode::ConfigInvalid,
                      fmt::format("exec in container {}: no command to run", options.id)));
  for (const auto& entry : options.env) process.env.push_back(entry);
  if (!options.cwd.empty()) process.cwd = options.cwd;
  if (options.tty) process.terminal = true;
  if (options.no_new_privs) process.no_new_privileges = true;
  if (options.user) {
    process.user.uid = options.user->uid;
    if (options.user->gid) process.user.gid = *options.user->gid;
  }
  if (!options.additional_gids.empty()) process.user.additional_gids = options.additional_gids;
  if (!options.caps.empty()) {
    if (!process.capabilities) process.capabilities.emplace();
    Capabilities& caps = *process.capabilities;
    const bool ambient_possible = !caps.inheritable.empty();
    for (const auto& requested : options.caps) {
      const std::string name = capability_name(requested);
      add_unique(caps.bounding, name);
      add_unique(caps.effective, name);
      add_unique(caps.permitted, name);
      if (ambient_possible) add_unique(caps.ambient, name);
    }
  }
  return process;
}

}  // namespace corral::cli
