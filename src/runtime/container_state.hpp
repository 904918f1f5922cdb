#pragma once
// ContainerState: everything state.json holds, which is all that Factory::load needs to
// rebuild a Container in another process (the CLI's next invocation, a restarted corrald).
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/spec/error.hpp"

namespace corral {

enum class ContainerStatus { Creating, Created, Running, Paused, Stopped };
std::string_view to_string(ContainerStatus status);  // "creating", "created", ...
bool parse_container_status(std::string_view name, ContainerStatus& out);

struct ExitRecord {
  int code = 0;              // CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 when unknown
  int status = 0;            // exit status or signal number
  std::int64_t time_ns = 0;  // when the exit was observed (Unix epoch, ns)
  bool known = true;         // false: the process is gone but nobody could learn how it ended
};

struct ContainerState {
  std::string id;
  std::string bundle;
  std::string rootfs;
  ContainerStatus status = ContainerStatus::Creating;
  pid_t init_pid = 0;
  std::uint64_t init_start_time = 0;  // field 22 of /proc/PID/stat, to tell a reused pid apart
  std::int64_t created_ns = 0;        // Unix epoch, ns
  std::string owner;
  // controller -> absolute path. In a Container's state() it is empty while the container has
  // its cgroup manager, which holds the paths: use Container::cgroup_paths().
  std::map<std::string, std::string> cgroup_paths;
  std::map<std::string, std::string> namespace_paths;  // "pid" -> /proc/PID/ns/pid
  std::vector<std::string> external_descriptors;       // what fds 0-2 of the init pointed at
  std::map<std::string, std::string> annotations;
  nlohmann::json config;  // the OCI config.json as given, re-parsed on load
  std::optional<ExitRecord> exit;

  nlohmann::json to_json() const;
  // A wrong or missing field is a SystemError naming `source` (the file) and the field.
  static Expected<ContainerState> from_json(const nlohmann::json& j, std::string_view source);
};

}  // namespace corral
