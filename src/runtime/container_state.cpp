#include "runtime/container_state.hpp"

#include <fmt/format.h>

#include <array>

namespace corral {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<ContainerStatus, std::string_view>, 5> kStatusNames{{
    {ContainerStatus::Creating, "creating"},
    {ContainerStatus::Created, "created"},
    {ContainerStatus::Running, "running"},
    {ContainerStatus::Paused, "paused"},
    {ContainerStatus::Stopped, "stopped"},
}};

// Reads one field, turning nlohmann's type errors into a message that names the file and field.
template <class T>
void read_field(const json& j, const char* name, T& out, bool required, std::string_view source) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) throw std::runtime_error(fmt::format("{}: missing field \"{}\"", source, name));
    return;
  }
  try {
    it->get_to(out);
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: field \"{}\": expected {}, got {}", source, name,
                                         json(T{}).type_name(), it->type_name()));
  }
}

}  // namespace

std::string_view to_string(ContainerStatus status) {
  for (auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "unknown";
}

bool parse_container_status(std::string_view name, ContainerStatus& out) {
  for (auto& [s, n] : kStatusNames) {
    if (n == name) {
      out = s;
      return true;
    }
  }
  return false;
}

json ContainerState::to_json() const {
  json j = {
      {"id", id},
      {"bundle", bundle},
      {"rootfs", rootfs},
      {"status", std::string(corral::to_string(status))},
      {"init_process_pid", init_pid},
      {"init_process_start", init_start_time},
      {"created_ns", created_ns},
      {"owner", owner},
      {"cgroup_paths", cgroup_paths},
      {"namespace_paths", namespace_paths},
      {"external_descriptors", external_descriptors},
      {"annotations", annotations},
      {"config", config},
  };
  if (exit) {
    j["exit"] = {{"code", exit->code},
                 {"status", exit->status},
                 {"time_ns", exit->time_ns},
                 {"known", exit->known}};
  }
  return j;
}

Expected<ContainerState> ContainerState::from_json(const json& j, std::string_view source) {
  if (!j.is_object()) {
    return fail(Error(ErrorCode::SystemError,
                      fmt::format("{}: expected a JSON object, got {}", source, j.type_name()),
                      ErrorCause{0, "parse state", std::string(source)}));
  }
  ContainerState s;
  try {
    std::string status;
    read_field(j, "id", s.id, true, source);
    read_field(j, "bundle", s.bundle, false, source);
    read_field(j, "rootfs", s.rootfs, false, source);
    read_field(j, "status", status, true, source);
    if (!parse_container_status(status, s.status)) {
      throw std::runtime_error(
          fmt::format("{}: field \"status\": unknown status \"{}\"", source, status));
    }
    read_field(j, "init_process_pid", s.init_pid, true, source);
    read_field(j, "init_process_start", s.init_start_time, true, source);
    read_field(j, "created_ns", s.created_ns, true, source);
    read_field(j, "owner", s.owner, false, source);
    read_field(j, "cgroup_paths", s.cgroup_paths, false, source);
    read_field(j, "namespace_paths", s.namespace_paths, false, source);
    read_field(j, "external_descriptors", s.external_descriptors, false, source);
    read_field(j, "annotations", s.annotations, false, source);
    if (auto it = j.find("config"); it != j.end()) s.config = *it;
    if (auto it = j.find("exit"); it != j.end() && !it->is_null()) {
      ExitRecord record;
      read_field(*it, "code", record.code, true, source);
      read_field(*it, "status", record.status, true, source);
      read_field(*it, "time_ns", record.time_ns, true, source);
      read_field(*it, "known", record.known, false, source);
      s.exit = record;
    }
  } catch (const std::exception& e) {
    return fail(
        Error(ErrorCode::SystemError, e.what(), ErrorCause{0, "parse state", std::string(source)}));
  }
  return s;
}

}  // namespace corral
