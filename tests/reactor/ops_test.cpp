// Every awaitable operation on its success path and its error paths, on both backends.
#include "reactor/ops.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stop_token>
#include <string>
#include <thread>

#include "reactor/scope.hpp"
#include "reactor/when_all.hpp"
#include "reactor_fixture.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;
using testing::ReactorTest;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/corral-ops-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class OpsTest : public ReactorTest {};

TEST_P(OpsTest, Nop) {
  auto r = reactor.block_on([]() -> Task<Result<void>> { co_return co_await nop(); }());
  EXPECT_TRUE(r);
}

TEST_P(OpsTest, FileLifecycle) {
  TempDir dir;
  std::string file = dir / "a";
  std::string renamed = dir / "b";
  auto body = [&]() -> Task<void> {
    auto fd = co_await openat(AT_FDCWD, file.c_str(), O_CREAT | O_RDWR | O_EXCL, 0600);
    EXPECT_TRUE(fd) << fd.error().message();
    const char text[] = "hello reactor";
    auto written = co_await write(*fd, text, sizeof text - 1, 0);
    EXPECT_EQ(written.value_or(0), sizeof text - 1);
    EXPECT_TRUE(co_await fsync(*fd));
    EXPECT_TRUE(co_await fsync(*fd, true));
    char back[64] = {};
    auto got = co_await read(*fd, back, sizeof back, 0);
    EXPECT_EQ(std::string(back, got.value_or(0)), "hello reactor");
    iovec iov[2] = {{back, 5}, {back + 5, 8}};
    auto gotv = co_await readv(*fd, iov, 2, 0);
    EXPECT_EQ(gotv.value_or(0), 13u);
    auto wrotev = co_await writev(*fd, iov, 2, 13);
    EXPECT_EQ(wrotev.value_or(0), 13u);
    struct statx st {};
    EXPECT_TRUE(co_await statx_at(AT_FDCWD, file.c_str(), 0, STATX_SIZE, &st));
    EXPECT_EQ(st.stx_size, 26u);
    EXPECT_TRUE(co_await close(*fd));
    EXPECT_TRUE(co_await renameat(AT_FDCWD, file.c_str(), AT_FDCWD, renamed.c_str()));
    EXPECT_TRUE(co_await mkdirat(AT_FDCWD, (dir / "sub").c_str(), 0700));
    EXPECT_TRUE(co_await unlinkat(AT_FDCWD, (dir / "sub").c_str(), AT_REMOVEDIR));
    EXPECT_TRUE(co_await unlinkat(AT_FDCWD, renamed.c_str()));
  };
  reactor.block_on(body());
  EXPECT_FALSE(std::filesystem::exists(renamed));
}

TEST_P(OpsTest, ErrorsCarryTheKernelsErrno) {
  TempDir dir;
  auto body = [&]() -> Task<void> {
    char buf[4];
    auto bad_read = co_await read(-1, buf, sizeof buf);
    EXPECT_EQ(bad_read.error(), std::errc::bad_file_descriptor);
    auto bad_write = co_await write(9999, buf, sizeof buf);
    EXPECT_EQ(bad_write.error(), std::errc::bad_file_descriptor);
    auto missing = co_await openat(AT_FDCWD, (dir / "missing").c_str(), O_RDONLY);
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
    auto bad_close = co_await close(9999);
    EXPECT_EQ(bad_close.error(), std::errc::bad_file_descriptor);
    auto bad_fsync = co_await fsync(9999);
    EXPECT_EQ(bad_fsync.error(), std::errc::bad_file_descriptor);
    auto bad_rename =
        co_await renameat(AT_FDCWD, (dir / "x").c_str(), AT_FDCWD, (dir / "y").c_str());
    EXPECT_EQ(bad_rename.error(), std::errc::no_such_file_or_directory);
    auto bad_unlink = co_await unlinkat(AT_FDCWD, (dir / "x").c_str());
    EXPECT_EQ(bad_unlink.error(), std::errc::no_such_file_or_directory);
    auto existing = co_await mkdirat(AT_FDCWD, dir.path().c_str(), 0700);
    EXPECT_EQ(existing.error(), std::errc::file_exists);
    struct statx st {};
    auto bad_stat = co_await statx_at(AT_FDCWD, (dir / "x").c_str(), 0, STATX_SIZE, &st);
    EXPECT_EQ(bad_stat.error(), std::errc::no_such_file_or_directory);
    auto bad_accept = co_await accept(9999);
    EXPECT_EQ(bad_accept.error(), std::errc::bad_file_descriptor);
  };
  reactor.block_on(body());
}

TEST_P(OpsTest, PipeReadWaitsForData) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  auto body = [&]() -> Task<std::string> {
    char buf[16] = {};
    auto n = co_await read(p[0], buf, sizeof buf);
    co_return std::string(buf, n.value_or(0));
  };
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    [[maybe_unused]] auto n = ::write(p[1], "late", 4);
  });
  EXPECT_EQ(reactor.block_on(body()), "late");
  writer.join();
  ::close(p[0]);
  ::close(p[1]);
}

TEST_P(OpsTest, PollReportsReadiness) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(::write(p[1], "x", 1), 1);
  auto events = reactor.block_on(
      [&]() -> Task<Result<unsigned>> { co_return co_await poll(p[0], POLLIN); }());
  ASSERT_TRUE(events);
  EXPECT_TRUE(*events & POLLIN);
  ::close(p[0]);
  ::close(p[1]);
}

TEST_P(OpsTest, StopTokenCancelsAPendingRead) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  std::stop_source stop;
  auto body = [&]() -> Task<Result<std::size_t>> {
    char buf[4];
    co_return co_await read(p[0], buf, sizeof buf).with_stop(stop.get_token());
  };
  // Cancel from another thread while the read is pending.
  std::thread other([&] {
    std::this_thread::sleep_for(10ms);
    stop.request_stop();
  });
  auto r = reactor.block_on(body());
  other.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::operation_canceled);
  EXPECT_EQ(reactor.in_flight(), 0u);
  ::close(p[0]);
  ::close(p[1]);
}

// A named awaitable given its token by stop_on (how the supervisor waits on each container's
// pidfd): a stop on the reactor's own thread cancels it.
TEST_P(OpsTest, StopOnCancelsANamedPendingPoll) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  std::stop_source stop;
  auto waiter = [&]() -> Task<Result<unsigned>> {
    auto ready = poll(p[0], POLLIN);
    ready.stop_on(stop.get_token());
    co_return co_await ready;
  };
  Result<unsigned> out = 0u;
  auto keep = [&]() -> Task<void> { out = co_await waiter(); };
  auto body = [&]() -> Task<Result<unsigned>> {
    TaskScope scope;
    scope.spawn(keep());
    co_await sleep_for(5ms);
    stop.request_stop();
    co_await scope.join();
    co_return out;
  };
  auto r = reactor.block_on(body());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::operation_canceled);
  EXPECT_EQ(reactor.in_flight(), 0u);
  ::close(p[0]);
  ::close(p[1]);
}

TEST_P(OpsTest, AlreadyStoppedTokenNeverSubmits) {
  std::stop_source stop;
  stop.request_stop();
  auto r = reactor.block_on([&]() -> Task<Result<void>> {
    co_return co_await sleep_for(10s).with_stop(stop.get_token());
  }());
  EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

TEST_P(OpsTest, TimeoutExpiresWithEtime) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  auto r = reactor.block_on([&]() -> Task<Result<std::size_t>> {
    char buf[4];
    co_return co_await read(p[0], buf, sizeof buf).with_timeout(5ms);
  }());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().value(), ETIME);
  // And a timeout that does not fire leaves the result alone.
  ASSERT_EQ(::write(p[1], "ok", 2), 2);
  auto ok = reactor.block_on([&]() -> Task<Result<std::size_t>> {
    char buf[4];
    co_return co_await read(p[0], buf, sizeof buf).with_timeout(10s);
  }());
  EXPECT_EQ(ok.value_or(0), 2u);
  ::close(p[0]);
  ::close(p[1]);
}

TEST_P(OpsTest, SleepCompletesSuccessfully) {
  auto start = std::chrono::steady_clock::now();
  auto r = reactor.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(2ms); }());
  EXPECT_TRUE(r);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2ms);
}

TEST_P(OpsTest, UnixSocketAcceptConnectSendRecv) {
  TempDir dir;
  std::string path = dir / "sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  auto server_side = [&]() -> Task<std::string> {
    auto conn = co_await accept(listener);
    EXPECT_TRUE(conn);
    char buf[32] = {};
    auto n = co_await recv(*conn, buf, sizeof buf);
    auto echoed = co_await send(*conn, buf, n.value_or(0));
    EXPECT_TRUE(echoed);
    co_await close(*conn);
    co_return std::string(buf, n.value_or(0));
  };
  auto client_side = [&]() -> Task<std::string> {
    auto c = co_await connect_to(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    EXPECT_TRUE(c) << c.error().message();
    auto sent = co_await send(client, "ping", 4);
    EXPECT_EQ(sent.value_or(0), 4u);
    char buf[32] = {};
    auto n = co_await recv(client, buf, sizeof buf);
    co_return std::string(buf, n.value_or(0));
  };
  auto both = reactor.block_on(when_all(server_side(), client_side()));
  EXPECT_EQ(std::get<0>(both), "ping");
  EXPECT_EQ(std::get<1>(both), "ping");
  ::close(client);
  ::close(listener);
}

CORRAL_ALL_BACKENDS(OpsTest);

}  // namespace
}  // namespace corral::reactor
