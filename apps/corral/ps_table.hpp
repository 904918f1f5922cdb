#pragma once
// `corral ps ID`: runc's table, the columns of `ps -ef` for the processes of the container's
// cgroup. runc runs ps(1) and keeps the rows of the container's pids; corral reads /proc itself
// so that the host needs no procps, and prints the same columns:
//   UID          PID    PPID  C STIME TTY          TIME CMD
#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace corral::cli {

struct PsRow {
  std::string user;  // the real uid's name, or the number
  pid_t pid = 0;
  pid_t ppid = 0;
  int cpu_percent = 0;   // CPU time over lifetime, as ps's C column (capped at 99)
  std::string start;     // STIME: HH:MM today, else MonDD
  std::string tty;       // "?" without a controlling terminal
  std::string cpu_time;  // TIME: [DD-]HH:MM:SS
  std::string command;   // the command line, or [comm] when it is empty (a kernel thread, zombie)
};

// The row of `pid` from /proc; nullopt when it exited meanwhile.
std::optional<PsRow> read_ps_row(pid_t pid);

// Header and rows; columns padded as ps -ef pads them.
std::string format_ps_table(const std::vector<PsRow>& rows);

// The pieces, exposed for tests.
std::string format_cpu_time(unsigned long long seconds);
std::string format_start_time(std::time_t start, std::time_t now);
std::string tty_name(unsigned long long tty_nr);

}  // namespace corral::cli
