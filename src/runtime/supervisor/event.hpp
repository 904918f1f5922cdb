#pragma once
// Event: what the supervisor tells its subscribers about a container's life.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/container_state.hpp"

namespace corral::supervisor {

enum class EventType { Created, Started, Exited, Oom, Restarted, Deleted };
std::string_view to_string(EventType type);

struct Event {
  EventType type = EventType::Created;
  std::string id;
  std::int64_t time_ns = 0;
  std::optional<ExitRecord> exit;  // exited: the status (or that it is unknown)
  unsigned restart_count = 0;      // restarted: how many restarts so far

  // {"type":"exited","id":"web","time":"<RFC3339Nano>","time_ns":..,"exit":{...}}
  nlohmann::json to_json() const;
};

// {"known":true,"code":"exited"|"killed"|"dumped","status":N,"shell_status":N,"time":...};
// {"known":false,...} when the process was gone but its status could not be learnt.
nlohmann::json exit_to_json(const ExitRecord& exit);

}  // namespace corral::supervisor
