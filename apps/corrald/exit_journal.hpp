#pragma once
// ExitJournal: the keeper's durable record of the exits it reaped, kept until corrald has
// folded each into the container's state.json and acknowledged it.
//
// One JSON object per line, appended. A batch (every exit one SIGCHLD revealed) is written
// and fdatasync'ed once: group commit, so an exit storm costs one sync per wake-up, not one per
// container. A torn last line (the keeper killed mid-write) is skipped on load. When every
// record is acknowledged the file is truncated; a long tail of acknowledged records is
// compacted (the pending ones rewritten to a temp file renamed over the journal).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/spec/error.hpp"
#include "runtime/supervisor/reaped_exit.hpp"

namespace corrald {

class ExitJournal {
 public:
  ExitJournal() = default;
  ExitJournal(ExitJournal&& other) noexcept;
  ExitJournal& operator=(ExitJournal&& other) noexcept;
  ~ExitJournal();

  // Opens (creates) the journal at `path` and loads the records not yet acknowledged.
  static corral::Expected<ExitJournal> open(std::string path);

  // Gives each record the next sequence number, appends the batch and syncs it.
  corral::Expected<void> append(std::vector<corral::supervisor::ReapedExit>& batch);
  // Drops the record `seq` (unknown numbers are ignored).
  corral::Expected<void> acknowledge(std::uint64_t seq);

  const std::map<std::uint64_t, corral::supervisor::ReapedExit>& pending() const {
    return pending_;
  }
  const std::string& path() const { return path_; }

 private:
  corral::Expected<void> compact();

  std::string path_;
  int fd_ = -1;
  std::uint64_t next_seq_ = 1;
  std::uint64_t bytes_ = 0;
  std::map<std::uint64_t, corral::supervisor::ReapedExit> pending_;
};

}  // namespace corrald
