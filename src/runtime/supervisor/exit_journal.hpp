#pragma once
// ExitJournal: a durable, append-only record of container exits, kept until each one is safely
// in its container's state.json. Two writers use it: corrald's keeper (the exits it reaps for
// a corrald that died) and the supervisor itself (ExitGroupCommit: its own exits, so that a
// storm of them costs one sync per batch instead of two per container).
//
// One JSON object per line, appended. A batch is written and synced once: group commit. A torn
// last line (the writer killed mid-write) is skipped on load. When every record is
// acknowledged the file is truncated; a long tail of acknowledged records is compacted (the
// pending ones rewritten to a temp file renamed over the journal).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/spec/error.hpp"
#include "runtime/supervisor/reaped_exit.hpp"

namespace corral::supervisor {

class ExitJournal {
 public:
  ExitJournal() = default;
  ExitJournal(ExitJournal&& other) noexcept;
  ExitJournal& operator=(ExitJournal&& other) noexcept;
  ~ExitJournal();

  // Opens (creates) the journal at `path` and loads the records not yet acknowledged.
  static Expected<ExitJournal> open(std::string path);

  // Gives each record the next sequence number, appends the batch and syncs it (blocking).
  Expected<void> append(std::vector<ReapedExit>& batch);
  // The two halves of append() for a caller that writes and syncs `fd()` itself (through a
  // ring): stage() numbers the records not numbered yet (see take_number) and returns the
  // bytes to append; once they are durable, appended() makes the records pending.
  std::string stage(std::vector<ReapedExit>& batch);
  // The next sequence number, for a caller that numbers a record before staging it.
  std::uint64_t take_number() { return next_seq_++; }
  void appended(const std::vector<ReapedExit>& batch, std::size_t bytes);

  // Drops the record `seq` (unknown numbers are ignored).
  Expected<void> acknowledge(std::uint64_t seq);
  // Drops every record up to and including `seq`.
  Expected<void> acknowledge_through(std::uint64_t seq);

  const std::map<std::uint64_t, ReapedExit>& pending() const { return pending_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  Expected<void> after_acknowledge();
  Expected<void> compact();

  std::string path_;
  int fd_ = -1;
  std::uint64_t next_seq_ = 1;
  std::uint64_t bytes_ = 0;
  std::map<std::uint64_t, ReapedExit> pending_;
};

}  // namespace corral::supervisor
