#pragma once
// What corral-bench measures and how: wall and CPU clocks, percentiles, and the /proc and
// cgroup readings of other processes (PSS, RSS, descriptors, CPU ticks, peak memory).
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace corral::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of this process plus its waited-for children (so that an external runtime's CPU,
// and a reaped container's, count as soon as they are reaped).
double cpu_self_and_children_s();

// The q-quantile (0..1) by nearest rank; 0 for an empty sample.
double quantile(std::vector<double> sample, double q);
inline double median(std::vector<double> sample) {
  return quantile(std::move(sample), 0.5);
}

struct ProcessMemory {
  double rss_kib = 0;
  double pss_kib = 0;
};

// Summed over `pids` (a vanished pid counts zero).
ProcessMemory memory_of(const std::vector<pid_t>& pids);
int descriptors_of(const std::vector<pid_t>& pids);
// utime + stime of every thread of each process, in seconds.
double cpu_of(const std::vector<pid_t>& pids);
// The time each live thread of each process has run on a CPU, in seconds, exact to the
// nanosecond (/proc/PID/task/TID/schedstat), by thread id: for idle processes, where cpu_of's
// clock ticks (10 ms) make one stray wake-up look like a cost.
std::map<pid_t, double> thread_run_times(const std::vector<pid_t>& pids);
// The CPU the threads of `after` used since `before`: a thread new since then counts from 0.
// A thread that ended in between is not counted (its time is gone from /proc): io_uring's
// io-wq workers end after a few idle seconds, and taking their whole past off would make an
// idle window's figure negative.
double run_time_between(const std::map<pid_t, double>& before,
                        const std::map<pid_t, double>& after);
// cpu_of plus the CPU of the children each process has waited for (cutime + cstime): a
// supervisor's own CPU and that of the containers it reaped.
double cpu_with_reaped_children_of(const std::vector<pid_t>& pids);

// `root` and every descendant of it, except the processes in `pruned` and their descendants.
std::vector<pid_t> process_tree(pid_t root, const std::set<pid_t>& pruned = {});

// The v1 memory cgroup at `path` (relative to the hierarchy's root): memory.max_usage_in_bytes,
// or memory.peak on v2; nullopt when neither can be read.
std::optional<double> cgroup_peak_bytes(const std::string& path);
// The user memory charged to the cgroup now, exact to the page: rss + cache of memory.stat on
// v1 (anon + file on v2). The peak above moves in per-CPU batches of 64 pages (256 KiB), too
// coarse for an init of a few hundred KiB; this one is exact but not a peak.
std::optional<double> cgroup_user_memory_bytes(const std::string& path);
// True when the cgroup has no process left (or is gone).
bool cgroup_empty(const std::string& path);

}  // namespace corral::bench
