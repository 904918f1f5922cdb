#pragma once
// ReapedExit: the exit of a container init that some other process reaped and wrote down: in
// corrald, the keeper (the containers' subreaper) reaps the inits orphaned by a crashed or
// restarted corrald. The pid with its start time names the process (a recycled pid has another
// start time); `seq` orders the records of one keeper so corrald can acknowledge them.
#include <sys/types.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/container_state.hpp"
#include "runtime/spec/error.hpp"

namespace corral::supervisor {

struct ReapedExit {
  std::uint64_t seq = 0;
  pid_t pid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/PID/stat, read from the zombie
  ExitRecord exit;
  // The container, when the writer knows it (corrald's own exit journal); the keeper, which
  // reaps processes, does not: empty then, and the pid with its start time is the key.
  std::string container_id;

  nlohmann::json to_json() const;
  // A missing or mistyped field is an error naming `source`.
  static Expected<ReapedExit> from_json(const nlohmann::json& j, std::string_view source);
};

}  // namespace corral::supervisor
