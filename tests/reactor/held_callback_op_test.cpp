// HeldCallbackOp: operations on held files that call back instead of resuming a coroutine.

#include "reactor/held_callback_op.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipe_helpers.hpp"
#include "reactor/file_table.hpp"
#include "reactor/ops.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::make_pipe;
using testing::Pipe;
using testing::ReactorTest;
using testing::reader_gone;

// Every test holds one non-blocking pipe's read end in a table of 8.
class HeldCallbackOpTest : public ReactorTest {
 protected:
  void SetUp() override {
    auto table = FileTable::open(8);
    ASSERT_TRUE(table) << "FileTable::open: " << table.error().message();
    table_.emplace(std::move(*table));
    pipe_ = make_pipe(O_NONBLOCK);
    ASSERT_GE(pipe_.read_end, 0);
    auto held = table_->hold(pipe_.read_end);
    ASSERT_TRUE(held) << held.error().message();
    held_ = *held;
  }
  void TearDown() override { close_writer(); }
  void close_writer() {
    if (pipe_.write_end >= 0) ::close(pipe_.write_end);
    pipe_.write_end = -1;
  }

  // Runs the loop until `done` holds (bounded, so a lost callback fails instead of hanging).
  template <class Predicate>
  void run_until(Predicate done) {
    auto body = [&]() -> Task<void> {
      for (int i = 0; i < 5000 && !done(); ++i) co_await sleep_for(1ms);
    };
    reactor.block_on(body());
  }
  void run_for(std::chrono::milliseconds duration) {
    auto body = [&]() -> Task<void> { co_await sleep_for(duration); };
    reactor.block_on(body());
  }

  std::optional<FileTable> table_;  // destroyed before the reactor
  Pipe pipe_;
  HeldFile held_;
};

// A reader in the keeper's shape: poll, then one read, from the callbacks, until the end.
struct PollThenReadReader {
  HeldFile file;
  HeldCallbackOp op;
  char buffer[64];
  std::string got;
  std::vector<int> results;  // every callback's result, in order
  bool ended = false;

  void wait() {
    if (!op.start(poll(file.descriptor(), POLLIN).operation(), file, &PollThenReadReader::on_ready,
                  this))
      ended = true;
  }
  static void on_ready(void* context, int result) {
    auto& self = *static_cast<PollThenReadReader*>(context);
    self.results.push_back(result);
    if (result < 0) {
      self.ended = true;
      return;
    }
    if (!self.op.start(read(self.file.descriptor(), self.buffer, sizeof self.buffer).operation(),
                       self.file, &PollThenReadReader::on_read, &self))
      self.ended = true;
  }
  static void on_read(void* context, int result) {
    auto& self = *static_cast<PollThenReadReader*>(context);
    self.results.push_back(result);
    if (result > 0) {
      self.got.append(self.buffer, static_cast<std::size_t>(result));
      return self.wait();
    }
    self.ended = true;
  }
};

TEST_P(HeldCallbackOpTest, PollsAndReadsFromItsCallbacksToTheEnd) {
  PollThenReadReader reader{held_};
  reader.wait();
  EXPECT_TRUE(reader.op.pending());
  run_for(20ms);  // nothing to read yet: it stays pending and calls nothing
  EXPECT_TRUE(reader.results.empty());
  EXPECT_EQ(::write(pipe_.write_end, "hello ", 6), 6);
  run_until([&] { return reader.got.size() == 6; });
  EXPECT_EQ(::write(pipe_.write_end, "world", 5), 5);
  close_writer();
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.got, "hello world");
  ASSERT_FALSE(reader.results.empty());
  EXPECT_EQ(reader.results.back(), 0);  // the read at the end of the pipe
  EXPECT_FALSE(reader.op.pending());
  EXPECT_EQ(reactor.in_flight(), 0u);
  table_->release(held_);
}

TEST_P(HeldCallbackOpTest, ACancelCallsBackOnceWithEcanceled) {
  PollThenReadReader reader{held_};
  reader.wait();
  reader.op.cancel();
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.results, std::vector<int>{-ECANCELED});
  EXPECT_EQ(reactor.in_flight(), 0u);
  // The file is still held and usable.
  reader.ended = false;
  reader.wait();
  EXPECT_EQ(::write(pipe_.write_end, "x", 1), 1);
  run_until([&] { return !reader.got.empty(); });
  EXPECT_EQ(reader.got, "x");
  reader.op.cancel();
  run_until([&] { return reader.ended; });
  table_->release(held_);
  EXPECT_TRUE(reader_gone(pipe_.write_end));
  close_writer();
}

TEST_P(HeldCallbackOpTest, ReleaseCancelsItAndTheSlotIsGivenBackOnlyAfterTheCallback) {
  PollThenReadReader reader{held_};
  reader.wait();
  table_->release(held_);
  // Still in flight: the file is not closed under the kernel's feet.
  EXPECT_EQ(table_->direct_count() + table_->ordinary_count(), 1u);
  EXPECT_FALSE(reader_gone(pipe_.write_end));
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.results, std::vector<int>{-ECANCELED});
  EXPECT_EQ(table_->direct_count() + table_->ordinary_count(), 0u);
  EXPECT_TRUE(reader_gone(pipe_.write_end));
  close_writer();
}

TEST_P(HeldCallbackOpTest, AStaleFileStartsNothing) {
  table_->release(held_);
  PollThenReadReader reader{held_};
  reader.wait();
  EXPECT_TRUE(reader.ended);
  EXPECT_FALSE(reader.op.pending());
  EXPECT_TRUE(reader.results.empty());
  EXPECT_EQ(reactor.in_flight(), 0u);
  close_writer();
}

// The keeper's streams free themselves in their last callback.
TEST_P(HeldCallbackOpTest, TheCallbackMayDestroyTheOperation) {
  struct Owner {
    std::unique_ptr<HeldCallbackOp> op = std::make_unique<HeldCallbackOp>();
    int result = 1;
  } owner;
  ASSERT_TRUE(owner.op->start(
      poll(held_.descriptor(), POLLIN).operation(), held_,
      [](void* context, int result) {
        auto& self = *static_cast<Owner*>(context);
        self.result = result;
        self.op.reset();
      },
      &owner));
  close_writer();  // the poll sees the hangup
  run_until([&] { return owner.op == nullptr; });
  EXPECT_EQ(owner.op, nullptr);
  EXPECT_GT(owner.result, 0);
  EXPECT_EQ(reactor.in_flight(), 0u);
  table_->release(held_);
}

CORRAL_ALL_BACKENDS(HeldCallbackOpTest);

}  // namespace
}  // namespace corral::reactor
