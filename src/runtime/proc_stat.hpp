#pragma once
// What /proc/PID/stat says about a process that matters to the runtime: its state letter and
// its start time (field 22, clock ticks since boot). A pid and its start time together name one
// process for the life of the machine, so a pid recycled for an unrelated process is told apart.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace corral {

struct ProcStat {
  char state = '?';  // 'R', 'S', 'D', 'Z', 'T', ...
  pid_t parent = 0;  // field 4
  std::uint64_t start_time = 0;
};

// Parses the text of a stat file. The command name (field 2) may hold spaces and parentheses,
// so fields are counted from the LAST ')'. nullopt when the text is malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// Reads /proc/PID/stat; nullopt when the process does not exist (or the file is unreadable).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// True when `pid` is a live process (not a zombie) that started at `start_time`.
bool process_matches(pid_t pid, std::uint64_t start_time);

}  // namespace corral
