#include "runtime/supervisor/restart_policy.hpp"

#include <charconv>

namespace corral::supervisor {

Expected<RestartPolicy> RestartPolicy::parse(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return fail(Error(ErrorCode::ConfigInvalid,
                      "restart policy \"" + std::string(text) + "\": " + why +
                          " (expected no, on-failure[:max], always or unless-stopped)"));
  };
  if (text == "no" || text.empty()) return RestartPolicy{RestartMode::No, 0};
  if (text == "always") return RestartPolicy{RestartMode::Always, 0};
  if (text == "unless-stopped") return RestartPolicy{RestartMode::UnlessStopped, 0};
  constexpr std::string_view kOnFailure = "on-failure";
  if (text.substr(0, kOnFailure.size()) != kOnFailure) return invalid("unknown policy");
  std::string_view rest = text.substr(kOnFailure.size());
  if (rest.empty()) return RestartPolicy{RestartMode::OnFailure, 0};
  if (rest[0] != ':' || rest.size() == 1) return invalid("expected :max after on-failure");
  rest.remove_prefix(1);
  unsigned max = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), max);
  if (ec != std::errc{} || end != rest.data() + rest.size())
    return invalid("max must be a non-negative integer");
  return RestartPolicy{RestartMode::OnFailure, max};
}

std::string RestartPolicy::to_string() const {
  switch (mode) {
    case RestartMode::No:
      return "no";
    case RestartMode::OnFailure:
      return max_restarts == 0 ? "on-failure" : "on-failure:" + std::to_string(max_restarts);
    case RestartMode::Always:
      return "always";
    case RestartMode::UnlessStopped:
      return "unless-stopped";
  }
  return "no";
}

std::chrono::milliseconds RestartTracker::delay_for(unsigned attempt) const {
  auto delay = backoff_.initial;
  for (unsigned i = 1; i < attempt && delay < backoff_.max_delay; ++i) delay *= 2;
  return std::min(delay, backoff_.max_delay);
}

std::optional<std::chrono::milliseconds> RestartTracker::on_exit(const ExitFacts& exit) {
  if (exit.ran_for >= backoff_.stable_after) consecutive_ = 0;
  bool restart = false;
  switch (policy_.mode) {
    case RestartMode::No:
      break;
    case RestartMode::OnFailure: {
      // An exit whose status nobody could learn is treated as a failure: for a service it is
      // safer to run it again than to leave it down on a guess that it succeeded.
      bool failed = !exit.status_known || exit.shell_status != 0;
      bool budget = policy_.max_restarts == 0 || consecutive_ < policy_.max_restarts;
      restart = failed && !exit.kill_requested && budget;
      break;
    }
    case RestartMode::Always:
    case RestartMode::UnlessStopped:
      restart = !exit.kill_requested;
      break;
  }
  if (!restart) return std::nullopt;
  ++consecutive_;
  ++total_;
  return delay_for(consecutive_);
}

void RestartTracker::cancel_pending() {
  if (consecutive_ > 0) --consecutive_;
  if (total_ > 0) --total_;
}

bool RestartTracker::restart_at_daemon_start(bool stopped_by_user) const {
  switch (policy_.mode) {
    case RestartMode::Always:
      return true;
    case RestartMode::UnlessStopped:
      return !stopped_by_user;
    default:
      return false;
  }
}

}  // namespace corral::supervisor
