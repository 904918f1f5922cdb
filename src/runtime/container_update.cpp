// Container::update and Container::stats: the cgroup of a live container, after create.
#include "runtime/container.hpp"
#include "runtime/resources_json.hpp"

namespace corral {

Expected<void> Container::update(const Resources& changes) {
  const std::string context = "update container " + state_.id;
  if (state_.status == ContainerStatus::Stopped || state_.status == ContainerStatus::Creating ||
      !init_alive())
    return fail(Error(ErrorCode::ContainerNotRunning, context + ": it is not running"));
  if (!manager_) return fail(Error(ErrorCode::SystemError, context + ": it has no cgroup"));
  if (auto applied = manager_->apply(changes); !applied)
    return fail(std::move(applied).error().with_context(context));
  // Only what was applied is recorded: the merge keeps earlier updates of other fields.
  if (!state_.config.is_object()) state_.config = nlohmann::json::object();
  nlohmann::json& recorded = state_.config["resources"];
  if (!recorded.is_object()) recorded = nlohmann::json::object();
  recorded.merge_patch(resources_to_json(changes));
  return save();
}

Expected<cgroups::Stats> Container::stats() const {
  if (!manager_)
    return fail(Error(ErrorCode::ContainerNotRunning,
                      "stats of container " + state_.id + ": it has no cgroup"));
  auto stats = manager_->stats();
  if (!stats) return fail(std::move(stats).error().with_context("stats of container " + state_.id));
  return stats;
}

}  // namespace corral
