// `corral events`: runc's event stream for one container, one JSON object per line:
//   {"type":"stats","id":ID,"data":{"cpu":{"usage":{"total":NS}},
//    "memory":{"usage":{"usage":B,"max":B}},"pids":{"current":N}}}
//   {"type":"oom","id":ID}
// --stats prints one stats event and exits. Otherwise a stats event follows every --interval,
// an oom event whenever the cgroup's OOM-kill count grew since the last look, and the stream
// ends (status 0) when the container stops. A container already stopped is an error.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "apps/corral/commands.hpp"
#include "runtime/factory.hpp"

namespace corral::cli {
namespace {

nlohmann::json stats_data(const cgroups::Stats& stats) {
  nlohmann::json data = nlohmann::json::object();
  if (stats.cpu_usage_ns) data["cpu"] = {{"usage", {{"total", *stats.cpu_usage_ns}}}};
  nlohmann::json usage = nlohmann::json::object();
  if (stats.memory_usage_bytes) usage["usage"] = *stats.memory_usage_bytes;
  if (stats.memory_max_usage_bytes) usage["max"] = *stats.memory_max_usage_bytes;
  if (!usage.empty()) data["memory"] = {{"usage", std::move(usage)}};
  if (stats.pids_current) data["pids"] = {{"current", *stats.pids_current}};
  return data;
}

void emit(std::ostream& out, const nlohmann::json& event) {
  out << event.dump() << "\n";
  out.flush();  // a reader (containerd, a pipe) must see each event as it happens
}

}  // namespace

Expected<void> run_events(const CommandContext& context, const EventsOptions& options) {
  auto factory = Factory::create(context.global.root);
  if (!factory) return fail(std::move(factory).error());
  std::optional<std::uint64_t> last_oom_count;
  bool first = true;
  for (;;) {
    auto container = factory->load(options.id);
    if (!container) return fail(std::move(container).error());
    if ((*container)->status() == ContainerStatus::Stopped) {
      if (first)
        return fail(Error(ErrorCode::ContainerNotRunning,
                          fmt::format("events for container {}: it is stopped", options.id)));
      return {};  // the stream ends with the container
    }
    first = false;
    auto stats = (*container)->stats();
    if (!stats) return fail(std::move(stats).error());
    if (stats->oom_kill_count) {
      if (last_oom_count && *stats->oom_kill_count > *last_oom_count)
        emit(context.out, {{"type", "oom"}, {"id", options.id}});
      last_oom_count = stats->oom_kill_count;
    }
    emit(context.out, {{"type", "stats"}, {"id", options.id}, {"data", stats_data(*stats)}});
    if (options.stats) return {};
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace corral::cli
