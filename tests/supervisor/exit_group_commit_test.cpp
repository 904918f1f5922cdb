// ExitGroupCommit: exits journaled with one sync per batch, dropped by a checkpoint once their
// state.json files are synced, and folded into state.json after a crash.
#include "runtime/supervisor/exit_group_commit.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "cli/temp_dir.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "reactor/when_all.hpp"

namespace corral::supervisor {
namespace {

ReapedExit exit_of(const std::string& id, pid_t pid, std::uint64_t start_time, int status) {
  ReapedExit r;
  r.pid = pid;
  r.start_time = start_time;
  r.exit.code = CLD_EXITED;
  r.exit.status = status;
  r.exit.time_ns = 1;
  r.container_id = id;
  return r;
}

std::size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

class ExitGroupCommitTest : public ::testing::Test {
 protected:
  std::unique_ptr<ExitGroupCommit> open() {
    auto opened = ExitGroupCommit::open(journal_, dir_.path());
    EXPECT_TRUE(opened) << opened.error().what();
    return opened ? std::move(*opened) : nullptr;
  }

  cli::testing::TempDir dir_;
  std::string journal_ = dir_.file("exits.journal");
  reactor::Reactor reactor_;
};

TEST_F(ExitGroupCommitTest, ExitsCommittedTogetherShareOneSync) {
  auto log = open();
  ASSERT_TRUE(log);
  std::vector<reactor::Task<Expected<std::uint64_t>>> commits;
  for (int i = 0; i < 200; ++i) commits.push_back(log->commit(exit_of("c", 1000 + i, 5, i)));
  auto results = reactor_.block_on(reactor::when_all(std::move(commits)));
  std::set<std::uint64_t> seqs;
  for (auto& r : results) {
    ASSERT_TRUE(r) << r.error().what();
    seqs.insert(*r);
  }
  EXPECT_EQ(seqs.size(), 200u);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 200u);
  // The first commit writes alone; the 199 that queued while it synced go in the next write.
  EXPECT_EQ(log->batches_written(), 2u);
  EXPECT_EQ(lines_in(journal_), 200u);
  EXPECT_EQ(log->pending_records(), 200u);
}

TEST_F(ExitGroupCommitTest, CheckpointDropsOnlyWhatIsFolded) {
  auto log = open();
  ASSERT_TRUE(log);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    auto seq = reactor_.block_on(log->commit(exit_of("c" + std::to_string(i), 100 + i, 5, i)));
    ASSERT_TRUE(seq) << seq.error().what();
    seqs.push_back(*seq);
  }
  log->folded(seqs[0]);
  log->folded(seqs[2]);
  reactor_.block_on(log->checkpoint());
  // 2 is not in its state.json yet: it and everything after it stay.
  EXPECT_EQ(log->pending_records(), 2u);
  log->folded(seqs[1]);
  reactor_.block_on(log->checkpoint());
  EXPECT_EQ(log->pending_records(), 0u);
  EXPECT_EQ(std::filesystem::file_size(journal_), 0u);
}

// The owner folds its deferred exits in before_checkpoint; an exit committed while that runs
// (a storm's straggler) must bring another round, not wait for the next commit, and a fold
// that failed and asked for checkpoint_later is tried again.
TEST_F(ExitGroupCommitTest, ACommitDuringTheFoldsAndARetryEachGetAnotherRound) {
  auto log = open();
  ASSERT_TRUE(log);
  std::vector<std::uint64_t> unfolded;
  int rounds = 0;
  bool fail_once = true;
  reactor_.block_on([&]() -> reactor::Task<void> {
    std::stop_source stop;
    reactor::TaskScope scope;
    scope.spawn(log->run_checkpoints(
        stop.get_token(), std::chrono::milliseconds(20), [&]() -> reactor::Task<void> {
          ++rounds;
          std::vector<std::uint64_t> now = std::exchange(unfolded, {});
          if (rounds == 1) {
            // The straggler: committed while the first round folds.
            auto seq = co_await log->commit(exit_of("late", 300, 5, 1));
            EXPECT_TRUE(seq);
            if (seq) unfolded.push_back(*seq);
          }
          if (rounds == 2 && fail_once) {
            fail_once = false;  // this round's fold fails: kept, and a retry asked for
            unfolded = now;
            log->checkpoint_later();
            co_return;
          }
          for (auto seq : now) log->folded(seq);
        }));
    auto first = co_await log->commit(exit_of("first", 200, 5, 0));
    EXPECT_TRUE(first);
    if (first) unfolded.push_back(*first);
    for (int i = 0; i < 500 && (log->pending_records() > 0 || rounds < 3); ++i)
      (void)co_await reactor::sleep_for(std::chrono::milliseconds(10));
    stop.request_stop();
    co_await scope.join();
  }());
  EXPECT_GE(rounds, 3);
  EXPECT_EQ(log->pending_records(), 0u) << "a record was left in the journal";
  EXPECT_EQ(std::filesystem::file_size(journal_), 0u);
}

TEST_F(ExitGroupCommitTest, LeftoversAfterACrashAreFoldedIntoTheirStateFiles) {
  StateStore store(dir_.file("containers"));
  auto make_state = [&](const std::string& id, pid_t pid, std::uint64_t start_time) {
    std::filesystem::create_directories(store.container_dir(id));
    ContainerState s;
    s.id = id;
    s.bundle = "/bundle";
    s.rootfs = "/rootfs";
    s.status = ContainerStatus::Running;
    s.init_pid = pid;
    s.init_start_time = start_time;
    ASSERT_TRUE(store.save(s));
  };
  make_state("ended", 4321, 77);
  make_state("restarted", 4322, 90);  // a later run: its record is about the run before
  {
    std::ofstream out(journal_);
    ReapedExit a = exit_of("ended", 4321, 77, 9);
    a.seq = 1;
    ReapedExit b = exit_of("restarted", 4322, 80, 1);
    b.seq = 2;
    ReapedExit gone = exit_of("deleted-since", 4323, 5, 0);
    gone.seq = 3;
    out << a.to_json().dump() << "\n"
        << b.to_json().dump() << "\n"
        << gone.to_json().dump() << "\n{\"seq\": 4, \"pi";  // torn by the crash
  }
  auto log = open();
  ASSERT_TRUE(log);
  auto folded = log->fold_leftovers(store);
  ASSERT_TRUE(folded) << folded.error().what();
  EXPECT_EQ(*folded, 1u);
  auto ended = store.load("ended");
  ASSERT_TRUE(ended) << ended.error().what();
  ASSERT_TRUE(ended->exit);
  EXPECT_EQ(ended->exit->status, 9);
  EXPECT_EQ(ended->status, ContainerStatus::Stopped);
  auto restarted = store.load("restarted");
  ASSERT_TRUE(restarted);
  EXPECT_FALSE(restarted->exit);
  EXPECT_EQ(restarted->status, ContainerStatus::Running);
  EXPECT_EQ(log->pending_records(), 0u);
  EXPECT_EQ(std::filesystem::file_size(journal_), 0u);
  // Numbering goes on after the leftovers.
  auto next = reactor_.block_on(log->commit(exit_of("x", 1, 1, 0)));
  ASSERT_TRUE(next);
  EXPECT_GT(*next, 3u);
}

}  // namespace
}  // namespace corral::supervisor
