#include "runtime/supervisor/exit_group_commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "reactor/linked_ops.hpp"
#include "reactor/off_thread.hpp"
#include "reactor/ops.hpp"

namespace corral::supervisor {

ExitGroupCommit::ExitGroupCommit(ExitJournal journal, int sync_fd)
    : journal_(std::move(journal)), sync_fd_(sync_fd) {
  if (!journal_.pending().empty()) last_seq_ = journal_.pending().rbegin()->first;
  durable_through_ = last_seq_;
}

ExitGroupCommit::~ExitGroupCommit() {
  if (sync_fd_ >= 0) ::close(sync_fd_);
}

Expected<std::unique_ptr<ExitGroupCommit>> ExitGroupCommit::open(std::string journal_path,
                                                                 const std::string& sync_dir) {
  auto journal = ExitJournal::open(std::move(journal_path));
  if (!journal) return fail(std::move(journal).error());
  int sync_fd = ::open(sync_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sync_fd < 0) return fail(Error::from_errno(errno, "exit journal: open", sync_dir));
  return std::unique_ptr<ExitGroupCommit>(new ExitGroupCommit(std::move(*journal), sync_fd));
}

Expected<std::size_t> ExitGroupCommit::fold_leftovers(const StateStore& store) {
  std::size_t folded = 0;
  for (const auto& [seq, record] : journal_.pending()) {
    if (record.container_id.empty()) continue;
    auto state = store.load(record.container_id);
    if (!state) continue;  // deleted since, or unreadable: recovery reports the latter
    if (state->exit || state->init_pid != record.pid || state->init_start_time != record.start_time)
      continue;  // already written, or a later run of the container
    state->exit = record.exit;
    state->status = ContainerStatus::Stopped;
    if (auto saved = store.save(*state); !saved)
      return fail(std::move(saved).error().with_context("exit journal: fold the exit of " +
                                                        record.container_id));
    ++folded;
  }
  if (auto dropped = journal_.acknowledge_through(last_seq_); !dropped)
    return fail(std::move(dropped).error());
  return folded;
}

reactor::Task<Expected<std::uint64_t>> ExitGroupCommit::commit(ReapedExit record) {
  auto broken = [this] {
    return fail(Error(ErrorCode::SystemError,
                      "exit journal " + journal_.path() + ": an earlier write failed"));
  };
  if (broken_) co_return broken();
  record.seq = journal_.take_number();
  const std::uint64_t seq = record.seq;
  last_seq_ = seq;
  unfolded_.insert(seq);
  queue_.push_back(std::move(record));
  note_activity();
  // The first waiter to find no write in flight writes everything queued so far, itself
  // included; the others wait for that write (or the next one) to cover them.
  while (durable_through_ < seq && !broken_) {
    if (writing_) {
      co_await written_.wait();
      continue;
    }
    writing_ = true;
    std::vector<ReapedExit> batch = std::exchange(queue_, {});
    std::string text = journal_.stage(batch);
    auto synced = co_await reactor::write_then_fsync(journal_.fd(), text.data(), text.size(),
                                                     static_cast<std::uint64_t>(-1));
    writing_ = false;
    if (synced) {
      journal_.appended(batch, text.size());
      durable_through_ = batch.back().seq;
      last_batch_records_ = batch.size();
      ++batches_;
    } else {
      std::fprintf(stderr, "corrald: exit journal %s: %s (exits are synced one by one now)\n",
                   journal_.path().c_str(), std::strerror(synced.error().value()));
      broken_ = true;
    }
    written_.notify_all();
  }
  if (durable_through_ < seq) {
    unfolded_.erase(seq);  // its caller makes state.json durable itself
    co_return broken();
  }
  co_return seq;
}

void ExitGroupCommit::folded(std::uint64_t seq) {
  unfolded_.erase(seq);
}

void ExitGroupCommit::note_activity() {
  ++activity_;
  active_.notify_all();
}

std::uint64_t ExitGroupCommit::folded_through() const {
  return unfolded_.empty() ? last_seq_ : *unfolded_.begin() - 1;
}

reactor::Task<void> ExitGroupCommit::checkpoint() {
  if (checkpointing_ || journal_.pending().empty()) co_return;
  checkpointing_ = true;
  const std::uint64_t through = folded_through();
  const int fd = sync_fd_;
  const int err = co_await reactor::off_thread([fd] { return ::syncfs(fd) < 0 ? errno : 0; });
  checkpointing_ = false;
  if (err != 0) {
    std::fprintf(stderr, "corrald: exit journal %s: syncfs: %s (kept)\n", journal_.path().c_str(),
                 std::strerror(err));
    co_return;
  }
  // Truncating or compacting under an append in flight could lose that append: next time.
  if (writing_) {
    checkpoint_again_ = true;
    co_return;
  }
  if (auto dropped = journal_.acknowledge_through(through); !dropped)
    std::fprintf(stderr, "corrald: %s\n", dropped.error().what().c_str());
}

reactor::Task<void> ExitGroupCommit::run_checkpoints(
    std::stop_token token, std::chrono::milliseconds quiet,
    std::function<reactor::Task<void>()> before_checkpoint) {
  while (!token.stop_requested()) {
    if (activity_ == activity_at_checkpoint_ && !checkpoint_again_) {
      if (!co_await active_.wait(token)) break;
      continue;
    }
    // Wait until commits stop for a while: a storm is synced once, after it.
    std::uint64_t seen;
    do {
      seen = activity_;
      if (!co_await reactor::sleep_for(quiet).with_stop(token)) co_return;
    } while (activity_ != seen);
    // Taken before the owner's folds: a commit that comes while they or the sync run brings
    // another round.
    activity_at_checkpoint_ = seen;
    checkpoint_again_ = false;
    if (before_checkpoint) co_await before_checkpoint();
    co_await checkpoint();
  }
}

void ExitGroupCommit::checkpoint_later() {
  checkpoint_again_ = true;
  active_.notify_all();
}

}  // namespace corral::supervisor
