#include "runtime/cgroups/manager_support.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "runtime/cgroups/cgroupfs.hpp"

namespace corral::cgroups {

Expected<void> write_with_context(const std::string& path, std::string_view value,
                                  std::string_view what) {
  auto written = fs::write_file(path, value);
  if (!written) return fail(std::move(written.error()).with_context(what));
  return {};
}

std::string_view to_string(FreezerState state) {
  switch (state) {
    case FreezerState::Thawed:
      return "THAWED";
    case FreezerState::Freezing:
      return "FREEZING";
    case FreezerState::Frozen:
      return "FROZEN";
  }
  return "UNKNOWN";
}

Expected<bool> poll_until(const std::function<Expected<bool>()>& done,
                          std::chrono::milliseconds timeout,
                          const std::function<Expected<void>()>& on_poll) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  auto delay = std::chrono::microseconds(200);
  constexpr auto kMaxDelay = std::chrono::microseconds(10'000);
  while (true) {
    auto finished = done();
    if (!finished) return fail(std::move(finished.error()));
    if (*finished) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, kMaxDelay);
    if (on_poll) {
      if (auto nudged = on_poll(); !nudged) return fail(std::move(nudged.error()));
    }
  }
}

Expected<void> signal_all_processes(Manager& manager, int signal) {
  // Frozen, the group's processes cannot fork a child we would miss between reading the pids and
  // signalling them. Without a freezer (or when freezing fails) we still signal, best effort.
  // An empty group (the usual case when a stopped container is deleted) needs no freezing:
  // a v1 freeze and thaw cost milliseconds each, the largest part of a delete.
  if (auto pids = manager.procs(); pids && pids->empty()) return {};
  auto before = manager.freezer_state();
  const bool froze_here = before && *before == FreezerState::Thawed && manager.freeze();
  auto pids = manager.procs();
  Expected<void> result;
  if (!pids) {
    result = fail(std::move(pids.error()));
  } else {
    for (const pid_t pid : *pids) {
      // ESRCH: it exited meanwhile, which is what we wanted.
      if (::kill(pid, signal) != 0 && errno != ESRCH) {
        result = fail(Error::from_errno(
            errno, "kill " + std::to_string(pid) + " with signal " + std::to_string(signal)));
        break;
      }
    }
  }
  if (froze_here) {
    if (auto thawed = manager.thaw(); !thawed && result) result = std::move(thawed);
  }
  return result;
}

Expected<void> remove_dirs_retrying(const std::vector<std::string>& dirs,
                                    const ManagerOptions& options) {
  std::vector<std::string> remaining = dirs;
  auto delay = options.remove_first_delay;
  for (int attempt = 1;; ++attempt) {
    std::vector<std::string> busy;
    Expected<void> last_busy;
    for (const auto& dir : remaining) {
      auto removed = fs::remove_dir_tree(dir);
      if (removed) continue;
      if (removed.error().cause().errno_value != EBUSY) {
        return fail(std::move(removed.error()).with_context("remove cgroup"));
      }
      busy.push_back(dir);
      last_busy = std::move(removed);
    }
    if (busy.empty()) return {};
    if (attempt >= options.remove_attempts) {
      return fail(std::move(last_busy.error())
                      .with_context("remove cgroup: still busy after " + std::to_string(attempt) +
                                    " attempts (processes left inside? kill them first)"));
    }
    std::this_thread::sleep_for(delay);
    delay *= 2;
    remaining = std::move(busy);
  }
}

Expected<std::vector<pid_t>> read_procs_union(const std::vector<std::string>& dirs) {
  std::vector<pid_t> all;
  for (const auto& dir : dirs) {
    auto pids = fs::read_pids(fs::join(dir, "cgroup.procs"));
    if (!pids) return fail(std::move(pids.error()));
    all.insert(all.end(), pids->begin(), pids->end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace corral::cgroups
