#include "runtime/supervisor/reaped_exit.hpp"

#include <string>

namespace corral::supervisor {

nlohmann::json ReapedExit::to_json() const {
  nlohmann::json j{{"seq", seq},
                   {"pid", pid},
                   {"start_time", start_time},
                   {"code", exit.code},
                   {"status", exit.status},
                   {"time_ns", exit.time_ns}};
  if (!container_id.empty()) j["id"] = container_id;
  return j;
}

Expected<ReapedExit> ReapedExit::from_json(const nlohmann::json& j, std::string_view source) {
  auto bad = [&](const char* why) {
    return fail(
        Error(ErrorCode::SystemError, "exit record from " + std::string(source) + ": " + why));
  };
  if (!j.is_object()) return bad("not a JSON object");
  for (const char* field : {"seq", "pid", "start_time", "code", "status", "time_ns"})
    if (!j.contains(field) || !j[field].is_number_integer())
      return bad((std::string("field ") + field + " missing or not an integer").c_str());
  ReapedExit r;
  r.seq = j["seq"].get<std::uint64_t>();
  r.pid = j["pid"].get<pid_t>();
  r.start_time = j["start_time"].get<std::uint64_t>();
  r.exit.code = j["code"].get<int>();
  r.exit.status = j["status"].get<int>();
  r.exit.time_ns = j["time_ns"].get<std::int64_t>();
  r.exit.known = true;
  if (r.pid <= 0) return bad("pid is not positive");
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string()) return bad("field id is not a string");
    r.container_id = id->get<std::string>();
  }
  return r;
}

}  // namespace corral::supervisor
