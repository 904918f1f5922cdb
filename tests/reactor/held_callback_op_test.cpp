// HeldCallbackOp: operations on held files that call back instead of resuming a coroutine.

#include "reactor/held_callback_op.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "reactor/file_table.hpp"
#include "reactor/ops.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::ReactorTest;

class HeldCallbackOpTest : public ReactorTest {
 protected:
  FileTable open_table(unsigned capacity) {
    auto table = FileTable::open(capacity);
    if (!table) ADD_FAILURE() << "FileTable::open: " << table.error().message();
    return std::move(table).value();
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
};

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

Pipe make_nonblocking_pipe() {
  int p[2] = {-1, -1};
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0) << "pipe2: " << std::strerror(errno);
  ::fcntl(p[0], F_SETFL, ::fcntl(p[0], F_GETFL) | O_NONBLOCK);
  return {p[0], p[1]};
}

// True once nobody holds the read end any more: the write end reports POLLERR.
bool reader_gone(int write_end) {
  pollfd p{write_end, POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

// A reader in the keeper's shape: poll, then one read, from the callbacks, until the end.
struct Reader {
  HeldFile file;
  HeldCallbackOp op;
  char buffer[64];
  std::string got;
  std::vector<int> results;  // every callback's result, in order
  bool ended = false;

  void wait() {
    if (!op.start(poll(file.descriptor(), POLLIN).operation(), file, &Reader::on_ready, this))
      ended = true;
  }
  static void on_ready(void* context, int result) {
    auto& self = *static_cast<Reader*>(context);
    self.results.push_back(result);
    if (result < 0) {
      self.ended = true;
      return;
    }
    if (!self.op.start(read(self.file.descriptor(), self.buffer, sizeof self.buffer).operation(),
                       self.file, &Reader::on_read, &self))
      self.ended = true;
  }
  static void on_read(void* context, int result) {
    auto& self = *static_cast<Reader*>(context);
    self.results.push_back(result);
    if (result > 0) {
      self.got.append(self.buffer, static_cast<std::size_t>(result));
      return self.wait();
    }
    self.ended = true;
  }
};

TEST_P(HeldCallbackOpTest, PollsAndReadsFromItsCallbacksToTheEnd) {
  FileTable table = open_table(8);
  Pipe pipe = make_nonblocking_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held) << held.error().message();
  Reader reader{*held};
  reader.wait();
  EXPECT_TRUE(reader.op.pending());
  run_for(20ms);  // nothing to read yet: it stays pending and calls nothing
  EXPECT_TRUE(reader.results.empty());
  EXPECT_EQ(::write(pipe.write_end, "hello ", 6), 6);
  run_until([&] { return reader.got.size() == 6; });
  EXPECT_EQ(::write(pipe.write_end, "world", 5), 5);
  ::close(pipe.write_end);
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.got, "hello world");
  ASSERT_FALSE(reader.results.empty());
  EXPECT_EQ(reader.results.back(), 0);  // the read at the end of the pipe
  EXPECT_FALSE(reader.op.pending());
  EXPECT_EQ(reactor.in_flight(), 0u);
  table.release(*held);
}

TEST_P(HeldCallbackOpTest, ACancelCallsBackOnceWithEcanceled) {
  FileTable table = open_table(8);
  Pipe pipe = make_nonblocking_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  Reader reader{*held};
  reader.wait();
  reader.op.cancel();
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.results, std::vector<int>{-ECANCELED});
  EXPECT_EQ(reactor.in_flight(), 0u);
  // The file is still held and usable.
  reader.ended = false;
  reader.wait();
  EXPECT_EQ(::write(pipe.write_end, "x", 1), 1);
  run_until([&] { return !reader.got.empty(); });
  EXPECT_EQ(reader.got, "x");
  reader.op.cancel();
  run_until([&] { return reader.ended; });
  table.release(*held);
  EXPECT_TRUE(reader_gone(pipe.write_end));
  ::close(pipe.write_end);
}

TEST_P(HeldCallbackOpTest, ReleaseCancelsItAndTheSlotIsGivenBackOnlyAfterTheCallback) {
  FileTable table = open_table(8);
  Pipe pipe = make_nonblocking_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  Reader reader{*held};
  reader.wait();
  table.release(*held);
  // Still in flight: the file is not closed under the kernel's feet.
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 1u);
  EXPECT_FALSE(reader_gone(pipe.write_end));
  run_until([&] { return reader.ended; });
  EXPECT_EQ(reader.results, std::vector<int>{-ECANCELED});
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 0u);
  EXPECT_TRUE(reader_gone(pipe.write_end));
  ::close(pipe.write_end);
}

TEST_P(HeldCallbackOpTest, AStaleFileStartsNothing) {
  FileTable table = open_table(8);
  Pipe pipe = make_nonblocking_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  table.release(*held);
  Reader reader{*held};
  reader.wait();
  EXPECT_TRUE(reader.ended);
  EXPECT_FALSE(reader.op.pending());
  EXPECT_TRUE(reader.results.empty());
  EXPECT_EQ(reactor.in_flight(), 0u);
  ::close(pipe.write_end);
}

// The keeper's streams free themselves in their last callback.
TEST_P(HeldCallbackOpTest, TheCallbackMayDestroyTheOperation) {
  FileTable table = open_table(8);
  Pipe pipe = make_nonblocking_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  struct Owner {
    std::unique_ptr<HeldCallbackOp> op = std::make_unique<HeldCallbackOp>();
    int result = 1;
  } owner;
  ASSERT_TRUE(owner.op->start(
      poll(held->descriptor(), POLLIN).operation(), *held,
      [](void* context, int result) {
        auto& self = *static_cast<Owner*>(context);
        self.result = result;
        self.op.reset();
      },
      &owner));
  ::close(pipe.write_end);  // the poll sees the hangup
  run_until([&] { return owner.op == nullptr; });
  EXPECT_EQ(owner.op, nullptr);
  EXPECT_GT(owner.result, 0);
  EXPECT_EQ(reactor.in_flight(), 0u);
  table.release(*held);
}

CORRAL_ALL_BACKENDS(HeldCallbackOpTest);

}  // namespace
}  // namespace corral::reactor
