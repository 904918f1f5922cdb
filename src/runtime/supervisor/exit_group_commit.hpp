#pragma once
// ExitGroupCommit: how the supervisor makes its containers' exits durable in a storm.
//
// Writing each exit into its state.json with fsync costs two syncs per container (the file and
// its directory): 10,000 exits at ~1 ms each is far longer than the kernel needs to reap them.
// Instead an exit is appended to ROOT/exits.journal, and every exit that arrives while one
// append is being synced waits for the next one: one write and one sync per batch (group
// commit). Only then is the init reaped. Its state.json is written later, without a sync, when
// the storm is over: a checkpoint, after a quiet spell, first lets its owner write the state
// files (before_checkpoint, which reports each record folded), then syncs the filesystem
// (syncfs, off the loop) and drops the records whose state.json was written before it began. After
// a crash, the records still in the journal are folded into their state.json files before anything
// else reads them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "reactor/task.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/state_store.hpp"
#include "runtime/supervisor/exit_journal.hpp"
#include "runtime/supervisor/notifier.hpp"

namespace corral::supervisor {

class ExitGroupCommit {
 public:
  // Opens (creates) the journal at `journal_path`; `sync_dir` is any directory on the
  // filesystem of the state files (the checkpoint's syncfs).
  static Expected<std::unique_ptr<ExitGroupCommit>> open(std::string journal_path,
                                                         const std::string& sync_dir);
  ~ExitGroupCommit();
  ExitGroupCommit(const ExitGroupCommit&) = delete;
  ExitGroupCommit& operator=(const ExitGroupCommit&) = delete;

  // A crash's leftovers: each record whose container's state.json still shows that init (pid
  // and start time) without an exit gets the exit, written durably; then the journal is
  // emptied. Returns how many were folded. Blocking: before the loop serves anything.
  Expected<std::size_t> fold_leftovers(const StateStore& store);

  // Appends the exit and returns its sequence number once it is durable. An error (the
  // journal could not be written) means the caller must make state.json durable itself.
  reactor::Task<Expected<std::uint64_t>> commit(ReapedExit record);
  // The exit `seq` is in its state.json now (written, maybe not synced yet).
  void folded(std::uint64_t seq);
  // Syncs the state files' filesystem and drops the records folded before the sync began.
  reactor::Task<void> checkpoint();
  // Checkpoints after every quiet spell of `quiet` that follows a commit, until `token` stops;
  // `before_checkpoint`, if given, runs first each time (the owner's deferred folds).
  reactor::Task<void> run_checkpoints(std::stop_token token, std::chrono::milliseconds quiet,
                                      std::function<reactor::Task<void>()> before_checkpoint = {});

  // More exits than one are arriving together: the last batch carried several, or more are
  // queued or being written. A lone exit is cheaper written to state.json at once.
  bool storming() const { return last_batch_records_ > 1 || writing_ || !queue_.empty(); }
  // Asks run_checkpoints for another round after a quiet spell even without a commit (a
  // deferred fold failed and is to be tried again).
  void checkpoint_later();
  std::size_t pending_records() const { return journal_.pending().size(); }
  std::uint64_t batches_written() const { return batches_; }

 private:
  ExitGroupCommit(ExitJournal journal, int sync_fd);
  // Every record up to the result is in its state.json.
  std::uint64_t folded_through() const;
  void note_activity();  // a commit: the checkpoint loop waits for these to stop

  ExitJournal journal_;
  int sync_fd_ = -1;
  std::vector<ReapedExit> queue_;      // numbered, waiting for the next write
  std::set<std::uint64_t> unfolded_;   // numbered, not yet in their state.json
  std::uint64_t last_seq_ = 0;         // the highest number given
  std::uint64_t durable_through_ = 0;  // every record up to this one is synced
  bool writing_ = false;               // a write+sync is in flight on journal_.fd()
  bool checkpointing_ = false;
  bool broken_ = false;  // a write failed: the file may hold a torn batch; no more appends
  std::uint64_t activity_ = 0, activity_at_checkpoint_ = 0;
  // Another round is due without a commit: the last one found an append in flight and
  // dropped nothing, or the owner asked (checkpoint_later).
  bool checkpoint_again_ = false;
  std::uint64_t batches_ = 0;
  std::size_t last_batch_records_ = 0;
  Notifier written_;  // a batch was synced (or failed)
  Notifier active_;   // a commit happened, or checkpoint_later (the checkpoint loop's wake-up)
};

}  // namespace corral::supervisor
