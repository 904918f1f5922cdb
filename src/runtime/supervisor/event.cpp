#include "runtime/supervisor/event.hpp"

#include <sys/wait.h>

#include "runtime/container.hpp"
#include "runtime/supervisor/cri_log.hpp"

namespace corral::supervisor {

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::Created:
      return "created";
    case EventType::Started:
      return "started";
    case EventType::Exited:
      return "exited";
    case EventType::Oom:
      return "oom";
    case EventType::Restarted:
      return "restarted";
    case EventType::Deleted:
      return "deleted";
  }
  return "unknown";
}

nlohmann::json exit_to_json(const ExitRecord& exit) {
  nlohmann::json j;
  j["known"] = exit.known;
  if (exit.known) {
    j["code"] = exit.code == CLD_EXITED ? "exited" : exit.code == CLD_DUMPED ? "dumped" : "killed";
    j["status"] = exit.status;
    j["shell_status"] = shell_status(exit);
  }
  j["time"] = format_rfc3339_nano(exit.time_ns);
  j["time_ns"] = exit.time_ns;
  return j;
}

nlohmann::json Event::to_json() const {
  nlohmann::json j{{"type", to_string(type)},
                   {"id", id},
                   {"time", format_rfc3339_nano(time_ns)},
                   {"time_ns", time_ns}};
  if (exit) j["exit"] = exit_to_json(*exit);
  if (type == EventType::Restarted) j["restart_count"] = restart_count;
  return j;
}

}  // namespace corral::supervisor
