// FileTable: holding pipe ends as direct descriptors (io_uring) or ordinary fds (when the table
// is full, or on the epoll backend), reading them, releasing them, and cancelling reads.
#include "reactor/file_table.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "pipe_helpers.hpp"
#include "reactor/scope.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::make_pipe;
using testing::Pipe;
using testing::ReactorTest;
using testing::reader_gone;

class FileTableTest : public ReactorTest {
 protected:
  bool on_uring() const { return GetParam() == BackendKind::IoUring; }

  FileTable open_table(unsigned capacity) {
    auto table = FileTable::open(capacity);
    if (!table) ADD_FAILURE() << "FileTable::open: " << table.error().message();
    return std::move(table).value();
  }
};

std::size_t count_open_fds() {
  std::size_t count = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) >= 0;
}

Task<std::string> read_some(HeldFile file) {
  std::array<char, 64> buffer{};
  auto n = co_await read(file, buffer.data(), buffer.size());
  if (!n) co_return "error: " + n.error().message();
  co_return std::string(buffer.data(), *n);
}

Task<void> read_until_stopped(HeldFile file, std::stop_token stop, Result<std::size_t>& out) {
  std::array<char, 16> buffer{};
  out = co_await read(file, buffer.data(), buffer.size()).with_stop(std::move(stop));
}

TEST_P(FileTableTest, HoldsAPipeAndReadsItToEof) {
  FileTable table = open_table(64);
  Pipe pipe = make_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held) << held.error().message();
  EXPECT_EQ(held->is_direct(), on_uring()) << table.describe();
  // A direct descriptor replaces the ordinary fd, which is closed at once.
  EXPECT_EQ(fd_is_open(pipe.read_end), !on_uring());
  EXPECT_EQ(table.direct_count(), on_uring() ? 1u : 0u);
  EXPECT_EQ(table.ordinary_count(), on_uring() ? 0u : 1u);

  auto body = [&]() -> Task<void> {
    TaskScope scope;
    std::string first;
    // The read is pending before any data arrives.
    scope.spawn([](HeldFile file, std::string& out) -> Task<void> {
      out = co_await read_some(file);
    }(*held, first));
    co_await sleep_for(1ms);
    EXPECT_EQ(::write(pipe.write_end, "hello", 5), 5);
    co_await scope.join();
    EXPECT_EQ(first, "hello");
    ::close(pipe.write_end);
    EXPECT_EQ(co_await read_some(*held), "");  // EOF
  };
  reactor.block_on(body());
  table.release(*held);
  EXPECT_EQ(table.direct_count(), 0u);
  EXPECT_EQ(table.ordinary_count(), 0u);
  EXPECT_EQ(reactor.in_flight(), 0u);
}

TEST_P(FileTableTest, PollsAHeldPipeThenReadsItWithoutBlocking) {
  FileTable table = open_table(64);
  Pipe pipe = make_pipe();
  ::fcntl(pipe.read_end, F_SETFL, ::fcntl(pipe.read_end, F_GETFL) | O_NONBLOCK);
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held) << held.error().message();
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    unsigned events = 0;
    // The poll is pending before any data arrives; the read after it finds the data at once.
    scope.spawn([](HeldFile file, unsigned& out) -> Task<void> {
      auto ready = co_await reactor::poll(file, POLLIN);
      EXPECT_TRUE(ready) << ready.error().message();
      if (ready) out = *ready;
    }(*held, events));
    co_await sleep_for(1ms);
    EXPECT_EQ(::write(pipe.write_end, "ping", 4), 4);
    co_await scope.join();
    EXPECT_TRUE(events & POLLIN) << events;
    char buffer[16];
    auto n = co_await reactor::read(*held, buffer, sizeof buffer);
    EXPECT_TRUE(n) << n.error().message();
    if (n) {
      EXPECT_EQ(std::string(buffer, *n), "ping");
    }
    ::close(pipe.write_end);
    // With the writer gone the poll is ready again, and the read says end of file.
    auto hangup = co_await reactor::poll(*held, POLLIN);
    EXPECT_TRUE(hangup) << hangup.error().message();
    auto eof = co_await reactor::read(*held, buffer, sizeof buffer);
    EXPECT_TRUE(eof && *eof == 0);
  };
  reactor.block_on(body());
  table.release(*held);
  EXPECT_EQ(reactor.in_flight(), 0u);
}

TEST_P(FileTableTest, OverflowsToOrdinaryFdsWhenTheTableIsFull) {
  FileTable table = open_table(4);
  EXPECT_EQ(table.capacity(), on_uring() ? 4u : 0u) << table.describe();
  std::vector<HeldFile> held;
  std::vector<int> writers;
  for (int i = 0; i < 6; ++i) {
    Pipe pipe = make_pipe();
    auto file = table.hold(pipe.read_end);
    ASSERT_TRUE(file) << file.error().message();
    held.push_back(*file);
    writers.push_back(pipe.write_end);
    const char byte = static_cast<char>('a' + i);
    ASSERT_EQ(::write(pipe.write_end, &byte, 1), 1);
  }
  const std::size_t direct = on_uring() ? 4 : 0;
  EXPECT_EQ(table.direct_count(), direct);
  EXPECT_EQ(table.ordinary_count(), 6 - direct);
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i].is_direct(), i < direct) << "file " << i;
    // Held ordinary fds never leak into children.
    if (!held[i].is_direct()) {
      EXPECT_EQ(::fcntl(held[i].descriptor(), F_GETFD), FD_CLOEXEC);
    }
  }
  // Callers do not care which kind they got: every one reads the same way.
  auto body = [&]() -> Task<void> {
    for (std::size_t i = 0; i < held.size(); ++i) {
      EXPECT_EQ(co_await read_some(held[i]), std::string(1, static_cast<char>('a' + i)));
    }
  };
  reactor.block_on(body());
  for (const HeldFile& file : held) table.release(file);
  for (int fd : writers) {
    EXPECT_TRUE(reader_gone(fd)) << "a released read end is still open";
    ::close(fd);
  }
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 0u);
}

TEST_P(FileTableTest, ReleaseFreesTheSlotAndStaleHandlesReadNothing) {
  FileTable table = open_table(1);
  Pipe first = make_pipe();
  auto a = table.hold(first.read_end);
  ASSERT_TRUE(a);
  table.release(*a);
  EXPECT_TRUE(reader_gone(first.write_end));
  EXPECT_EQ(table.direct_count(), 0u);

  Pipe second = make_pipe();
  auto b = table.hold(second.read_end);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->is_direct(), on_uring());
  // On io_uring the only slot was given back and is taken again.
  if (on_uring()) {
    EXPECT_EQ(b->descriptor(), a->descriptor());
  }
  ASSERT_EQ(::write(second.write_end, "new", 3), 3);
  auto body = [&]() -> Task<void> {
    // The old handle names the same slot but not the same hold: it reads nothing.
    EXPECT_EQ(co_await read_some(*a),
              "error: " + std::make_error_code(std::errc::bad_file_descriptor).message());
    EXPECT_EQ(co_await read_some(HeldFile{}),
              "error: " + std::make_error_code(std::errc::bad_file_descriptor).message());
    EXPECT_EQ(co_await read_some(*b), "new");
  };
  reactor.block_on(body());
  table.release(*a);  // stale: does nothing
  EXPECT_FALSE(reader_gone(second.write_end));
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 1u);
  table.release(*b);
  EXPECT_TRUE(reader_gone(second.write_end));
  ::close(first.write_end);
  ::close(second.write_end);
}

TEST_P(FileTableTest, CancelsAPendingReadAndTheFileStaysUsable) {
  FileTable table = open_table(8);
  Pipe pipe = make_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  Result<std::size_t> cancelled;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    scope.spawn(read_until_stopped(*held, scope.token(), cancelled));
    co_await sleep_for(1ms);
    scope.request_stop();
    co_await scope.join();
    std::array<char, 8> buffer{};
    auto timed = co_await read(*held, buffer.data(), buffer.size()).with_timeout(1ms);
    EXPECT_FALSE(timed);
    if (!timed) {
      EXPECT_EQ(timed.error().value(), ETIME);
    }
    EXPECT_EQ(::write(pipe.write_end, "after", 5), 5);
    EXPECT_EQ(co_await read_some(*held), "after");
  };
  reactor.block_on(body());
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error(), std::errc::operation_canceled);
  EXPECT_EQ(reactor.in_flight(), 0u);
  table.release(*held);
  ::close(pipe.write_end);
}

TEST_P(FileTableTest, ReleasesAFileWhoseReadWasCancelled) {
  FileTable table = open_table(8);
  Pipe pipe = make_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  Result<std::size_t> cancelled;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    scope.spawn(read_until_stopped(*held, scope.token(), cancelled));
    co_await sleep_for(1ms);
    scope.request_stop();
    co_await scope.join();
  };
  reactor.block_on(body());
  EXPECT_EQ(cancelled.error(), std::errc::operation_canceled);
  table.release(*held);
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 0u);
  EXPECT_TRUE(reader_gone(pipe.write_end));
  ::close(pipe.write_end);
}

TEST_P(FileTableTest, ReleaseDuringAReadCancelsItAndKeepsTheSlotUntilItEnds) {
  FileTable table = open_table(1);
  Pipe pipe = make_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  Pipe other = make_pipe();
  Result<std::size_t> outcome;
  HeldFile during;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    scope.spawn(read_until_stopped(*held, std::stop_token{}, outcome));
    co_await sleep_for(1ms);
    table.release(*held);
    // The read is still in flight: its slot (or fd) is not free yet, so a new hold cannot
    // land on it.
    EXPECT_EQ(table.direct_count() + table.ordinary_count(), 1u);
    auto next = table.hold(other.read_end);
    EXPECT_TRUE(next);
    if (next) {
      during = *next;
      EXPECT_FALSE(next->is_direct());
    }
    co_await scope.join();
  };
  reactor.block_on(body());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error(), std::errc::operation_canceled);
  // The cancelled read finished the release.
  EXPECT_TRUE(reader_gone(pipe.write_end));
  EXPECT_EQ(table.direct_count(), 0u);
  EXPECT_EQ(table.ordinary_count(), 1u);
  table.release(during);
  EXPECT_TRUE(reader_gone(other.write_end));
  ::close(pipe.write_end);
  ::close(other.write_end);
}

TEST_P(FileTableTest, OneTablePerReactorAndTheCapacityIsClampedToTheFdLimit) {
  {
    auto table = FileTable::open(1'000'000);
    ASSERT_TRUE(table) << table.error().message();
    EXPECT_EQ(table->requested_capacity(), 1'000'000u);
    rlimit limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    EXPECT_EQ(limit.rlim_cur, limit.rlim_max);  // the soft limit was raised to the hard one
    if (on_uring()) {
      EXPECT_EQ(table->capacity(), limit.rlim_cur);
      EXPECT_NE(table->describe().find("clamped"), std::string::npos) << table->describe();
    } else {
      EXPECT_EQ(table->capacity(), 0u);
      EXPECT_NE(table->describe().find("epoll"), std::string::npos) << table->describe();
    }
    auto second = FileTable::open(8);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), std::errc::device_or_resource_busy);
  }
  // The first table unregistered itself: the ring takes a new one.
  auto again = FileTable::open(8);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->capacity(), on_uring() ? 8u : 0u);
}

TEST_P(FileTableTest, RefusesWhatItCannotHold) {
  FileTable table = open_table(8);
  EXPECT_EQ(table.hold(-1).error(), std::errc::bad_file_descriptor);
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(table.hold(fd).error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 0u);
}

TEST_P(FileTableTest, InstallsAnOrdinaryFdThatOutlivesTheHold) {
  FileTable table = open_table(8);
  Pipe pipe = make_pipe();
  auto held = table.hold(pipe.read_end);
  ASSERT_TRUE(held);
  auto body = [&]() -> Task<Result<int>> { co_return co_await install(*held); };
  Result<int> fd = reactor.block_on(body());
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_NE(*fd, held->descriptor());
  EXPECT_EQ(::fcntl(*fd, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(table.direct_count() + table.ordinary_count(), 1u);  // still held
  // The installed fd is the same pipe, and keeps it open after the hold is released.
  table.release(*held);
  EXPECT_FALSE(reader_gone(pipe.write_end));
  ASSERT_EQ(::write(pipe.write_end, "via fd", 6), 6);
  std::array<char, 16> buffer{};
  EXPECT_EQ(::read(*fd, buffer.data(), buffer.size()), 6);
  EXPECT_EQ(std::string(buffer.data(), 6), "via fd");
  ::close(*fd);
  EXPECT_TRUE(reader_gone(pipe.write_end));
  // A released HeldFile installs nothing.
  Result<int> stale = reactor.block_on(body());
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::bad_file_descriptor);
  ::close(pipe.write_end);
}

// The keeper's case: 15,000 pipe read ends held at once while the process's own fd table stays
// tiny. Pipes are made and held in batches, so the process never comes near its 20,000 fd limit.
// Most writers write one byte and close at once; the last batch keeps its writers, so that some
// reads are still pending in the kernel when the data arrives.
// io_uring only: the epoll backend has no registered-file table, so there is nothing to hold
// 15,000 pipes outside the fd table (the overflow test covers its ordinary fds).
class FileTableOnUringTest : public FileTableTest {};
INSTANTIATE_TEST_SUITE_P(IoUringOnly, FileTableOnUringTest, ::testing::Values(BackendKind::IoUring),
                         ::corral::reactor::testing::backend_name);

TEST_P(FileTableOnUringTest, HoldsFifteenThousandPipesWithATinyFdTable) {
  constexpr std::size_t kPipes = 15'000;
  constexpr std::size_t kBatch = 500;
  FileTable table = open_table(20'000);
  ASSERT_GE(table.capacity(), kPipes) << table.describe();
  const std::size_t fds_before = count_open_fds();
  std::vector<HeldFile> held;
  std::vector<int> kept_writers;
  held.reserve(kPipes);
  while (held.size() < kPipes) {
    const bool keep_writers = held.size() + kBatch >= kPipes;
    std::vector<Pipe> batch;
    for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(make_pipe());
    for (Pipe& pipe : batch) {
      if (keep_writers) {
        kept_writers.push_back(pipe.write_end);
      } else {
        const char byte = static_cast<char>('A' + held.size() % 26);
        ASSERT_EQ(::write(pipe.write_end, &byte, 1), 1);
        ::close(pipe.write_end);
      }
      auto file = table.hold(pipe.read_end);
      ASSERT_TRUE(file) << "pipe " << held.size() << ": " << file.error().message();
      ASSERT_TRUE(file->is_direct()) << "pipe " << held.size();
      held.push_back(*file);
    }
  }
  EXPECT_EQ(table.direct_count(), kPipes);
  EXPECT_EQ(table.ordinary_count(), 0u);
  // Only the kept writers were added to the fd table.
  EXPECT_LE(count_open_fds(), fds_before + kept_writers.size());

  // Every held pipe read at once: its byte, then EOF.
  std::size_t right = 0;
  std::size_t at_eof = 0;
  auto body = [&]() -> Task<void> {
    TaskScope scope;
    for (std::size_t i = 0; i < held.size(); ++i) {
      scope.spawn(
          [](HeldFile file, char expected, std::size_t& ok, std::size_t& eof) -> Task<void> {
            std::array<char, 4> buffer{};
            auto n = co_await read(file, buffer.data(), buffer.size());
            if (n && *n == 1 && buffer[0] == expected) ++ok;
            auto end = co_await read(file, buffer.data(), buffer.size());
            if (end && *end == 0) ++eof;
          }(held[i], static_cast<char>('A' + i % 26), right, at_eof));
    }
    // The kept pipes are empty: their reads are pending until the writers write.
    // (Bounded, so that a broken read fails the test instead of hanging it.)
    for (int i = 0; i < 60'000 && scope.active() > kept_writers.size(); ++i) {
      co_await sleep_for(1ms);
    }
    EXPECT_EQ(scope.active(), kept_writers.size());
    EXPECT_EQ(right, kPipes - kept_writers.size());
    for (std::size_t k = 0; k < kept_writers.size(); ++k) {
      const char byte = static_cast<char>('A' + (kPipes - kept_writers.size() + k) % 26);
      EXPECT_EQ(::write(kept_writers[k], &byte, 1), 1);
      ::close(kept_writers[k]);
    }
    co_await scope.join();
  };
  reactor.block_on(body());
  EXPECT_EQ(right, kPipes);
  EXPECT_EQ(at_eof, kPipes);
  EXPECT_LT(count_open_fds(), 100u);
  for (const HeldFile& file : held) table.release(file);
  EXPECT_EQ(table.direct_count(), 0u);
}

CORRAL_ALL_BACKENDS(FileTableTest);

}  // namespace
}  // namespace corral::reactor
