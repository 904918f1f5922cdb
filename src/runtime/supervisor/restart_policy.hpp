#pragma once
// RestartPolicy and RestartTracker: when a supervised container is started again after it
// exits, and after how long. Pure logic (no clock, no I/O) so that every rule is unit-tested.
//
//   no                 never restarted
//   on-failure[:max]   restarted when the exit status is not 0 (or unknown), at most `max`
//                      times in a row (0 or absent: no limit)
//   always             restarted after every exit, unless the exit followed a kill request
//   unless-stopped     as always; the difference is at daemon start: a container the user
//                      stopped stays stopped, whereas `always` starts it again
//
// Backoff: the n-th consecutive restart waits initial * 2^(n-1), capped at max_delay. A run
// that lasted at least stable_after resets the count (and so both the delay and on-failure's
// budget): a service that crashes once a day is not given up on after `max` days.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/spec/error.hpp"

namespace corral::supervisor {

enum class RestartMode { No, OnFailure, Always, UnlessStopped };

struct RestartPolicy {
  RestartMode mode = RestartMode::No;
  unsigned max_restarts = 0;  // on-failure only; 0: unlimited

  // "no", "on-failure", "on-failure:3", "always", "unless-stopped"; else ConfigInvalid.
  static Expected<RestartPolicy> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const RestartPolicy&) const = default;
};

struct BackoffSettings {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max_delay{30'000};
  std::chrono::milliseconds stable_after{10'000};
};

// What the supervisor knows about one exit.
struct ExitFacts {
  bool status_known = true;
  int shell_status = 0;         // meaningful when status_known
  bool kill_requested = false;  // the user asked for it (kill/stop through the API)
  std::chrono::milliseconds ran_for{0};
};

class RestartTracker {
 public:
  explicit RestartTracker(RestartPolicy policy = {}, BackoffSettings backoff = {})
      : policy_(policy), backoff_(backoff) {}

  // Called once per exit: the delay before the restart, or nullopt to leave it stopped.
  std::optional<std::chrono::milliseconds> on_exit(const ExitFacts& exit);

  // The restart on_exit granted did not happen (a kill or a delete came during the backoff):
  // it is not counted.
  void cancel_pending();

  // At daemon start, for a container found stopped: start it again?
  bool restart_at_daemon_start(bool stopped_by_user) const;

  const RestartPolicy& policy() const { return policy_; }
  unsigned consecutive_restarts() const { return consecutive_; }
  unsigned total_restarts() const { return total_; }
  void set_total_restarts(unsigned total) { total_ = total; }

 private:
  std::chrono::milliseconds delay_for(unsigned attempt) const;

  RestartPolicy policy_;
  BackoffSettings backoff_;
  unsigned consecutive_ = 0;  // restarts since the last stable run
  unsigned total_ = 0;
};

}  // namespace corral::supervisor
