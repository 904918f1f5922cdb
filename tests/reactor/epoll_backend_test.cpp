// The epoll fallback backend, through the same awaitables as io_uring (a Reactor built with
// BackendKind::Epoll) and, for chains, wake-ups and teardown, through the Backend interface.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "reactor/backend.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/task.hpp"

namespace corral::reactor {
namespace {

using namespace std::chrono_literals;

// An fd number above the open-files limit: always EBADF.
constexpr int kBadFd = 999'999;

ReactorOptions epoll_options() {
  return ReactorOptions{.backend = BackendKind::Epoll};
}

struct OwnedPipe {
  int read_end = -1;
  int write_end = -1;
  OwnedPipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    read_end = fds[0];
    write_end = fds[1];
  }
  ~OwnedPipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  OwnedPipe(const OwnedPipe&) = delete;
  OwnedPipe& operator=(const OwnedPipe&) = delete;
};

struct SocketPair {
  int a = -1;
  int b = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
};

struct ScratchDir {
  std::string path;
  ScratchDir() {
    char pattern[] = "/tmp/corral-epoll-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    path = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// Waits for coroutines started with spawn(): the test's stand-in for a scope.
class Join {
 public:
  auto wait() {
    struct Awaiter {
      Join& join;
      bool await_ready() const noexcept { return join.remaining_ == 0; }
      void await_suspend(std::coroutine_handle<> waiter) noexcept { join.waiter_ = waiter; }
      void await_resume() const noexcept {}
    };
    return Awaiter{*this};
  }
  void add() { ++remaining_; }
  void done() {
    if (--remaining_ == 0 && waiter_) std::exchange(waiter_, {}).resume();
  }

 private:
  int remaining_ = 0;
  std::coroutine_handle<> waiter_;
};

DetachedCoroutine run_joined(Task<void> task, Join& join) {
  co_await std::move(task);
  join.done();
}

void spawn(Task<void> task, Join& join) {
  join.add();
  run_joined(std::move(task), join);
}

template <class R>
int error_of(const R& result) {
  return result.has_value() ? 0 : result.error().value();
}

// --- Basics -----------------------------------------------------------------------------------

TEST(EpollBackend, DescribesItselfAndCompletesNop) {
  Reactor r(epoll_options());
  EXPECT_EQ(r.backend_kind(), BackendKind::Epoll);
  EXPECT_TRUE(r.features().native_waitid);
  EXPECT_NE(r.features().description.find("epoll"), std::string::npos);
  EXPECT_NE(r.features().description.find("pidfd"), std::string::npos);
  auto result = r.block_on([]() -> Task<Result<void>> { co_return co_await nop(); }());
  EXPECT_TRUE(result.has_value());
  EXPECT_EQ(r.in_flight(), 0u);
}

TEST(EpollBackend, SleepForSucceedsAndStopCancelsIt) {
  Reactor r(epoll_options());
  auto slept = r.block_on([]() -> Task<Result<void>> { co_return co_await sleep_for(1ms); }());
  EXPECT_TRUE(slept.has_value());

  auto cancelled = r.block_on([]() -> Task<Result<void>> {
    std::stop_source source;
    Join join;
    Result<void> out;
    spawn(
        [](std::stop_token token, Result<void>& out) -> Task<void> {
          out = co_await sleep_for(1h).with_stop(token);
        }(source.get_token(), out),
        join);
    source.request_stop();  // owner thread: cancels at once
    co_await join.wait();
    co_return out;
  }());
  EXPECT_EQ(error_of(cancelled), ECANCELED);
}

// --- Pipes ------------------------------------------------------------------------------------

TEST(EpollBackend, PipeReadWaitsForTheWriter) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  std::string got = r.block_on([](OwnedPipe& pipe) -> Task<std::string> {
    Join join;
    char buffer[16] = {};
    Result<std::size_t> n = fail(errno_code(EINVAL));
    spawn(
        [](int fd, char* buffer, Result<std::size_t>& n) -> Task<void> {
          n = co_await read(fd, buffer, 16);
        }(pipe.read_end, buffer, n),
        join);
    auto written = co_await write(pipe.write_end, "hello", 5);
    EXPECT_EQ(written.value_or(0), 5u);
    co_await join.wait();
    if (!n) co_return "error " + n.error().message();
    co_return std::string(buffer, *n);
  }(pipe));
  EXPECT_EQ(got, "hello");
  // Waiting registered the caller's fd with epoll, and left its blocking mode alone.
  EXPECT_EQ(::fcntl(pipe.read_end, F_GETFL) & O_NONBLOCK, 0);
}

TEST(EpollBackend, PipeVectorIoAndEndOfFile) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  auto [written, first, second, eof] =
      r.block_on([](OwnedPipe& pipe) -> Task<std::tuple<int, std::string, std::string, int>> {
        char a[] = "ab", b[] = "cde";
        iovec out[2] = {{a, 2}, {b, 3}};
        auto w = co_await writev(pipe.write_end, out, 2u);
        ::close(std::exchange(pipe.write_end, -1));
        char x[3] = {}, y[3] = {};
        iovec in[2] = {{x, 3}, {y, 3}};
        auto n = co_await readv(pipe.read_end, in, 2u);
        auto end = co_await read(pipe.read_end, x, 1);
        co_return std::tuple{static_cast<int>(w.value_or(0)), std::string(x, 3),
                             std::string(y, n.value_or(3) - 3), static_cast<int>(end.value_or(99))};
      }(pipe));
  EXPECT_EQ(written, 5);
  EXPECT_EQ(first, "abc");
  EXPECT_EQ(second, "de");
  EXPECT_EQ(eof, 0);
}

TEST(EpollBackend, BadDescriptorsFailWithEbadf) {
  Reactor r(epoll_options());
  std::vector<int> errors = r.block_on([]() -> Task<std::vector<int>> {
    char byte = 0;
    std::vector<int> out;
    out.push_back(error_of(co_await read(kBadFd, &byte, 1)));
    out.push_back(error_of(co_await write(kBadFd, &byte, 1)));
    out.push_back(error_of(co_await recv(kBadFd, &byte, 1)));
    out.push_back(error_of(co_await send(kBadFd, &byte, 1)));
    out.push_back(error_of(co_await accept(kBadFd)));
    out.push_back(error_of(co_await poll(kBadFd, POLLIN)));
    out.push_back(error_of(co_await close(kBadFd)));
    out.push_back(error_of(co_await fsync(kBadFd)));
    co_return out;
  }());
  EXPECT_EQ(errors, std::vector<int>(8, EBADF));
}

TEST(EpollBackend, StopSourceFromAnotherThreadCancelsAPendingRead) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  std::stop_source source;
  std::thread stopper;
  auto result = r.block_on([](OwnedPipe& pipe, std::stop_source& source,
                              std::thread& stopper) -> Task<Result<std::size_t>> {
    Join join;
    char byte = 0;
    Result<std::size_t> n = 0u;
    spawn(
        [](int fd, char* byte, std::stop_token token, Result<std::size_t>& n) -> Task<void> {
          n = co_await read(fd, byte, 1).with_stop(token);
        }(pipe.read_end, &byte, source.get_token(), n),
        join);
    // The read is suspended in the backend now; the stop comes through the reactor's queue.
    stopper = std::thread([&source] { source.request_stop(); });
    co_await join.wait();
    co_return n;
  }(pipe, source, stopper));
  stopper.join();
  EXPECT_EQ(error_of(result), ECANCELED);
}

TEST(EpollBackend, TimeoutOnAPipeReadThatNeverGetsDataIsEtime) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  auto [timed_out, in_time] = r.block_on([](OwnedPipe& pipe) -> Task<std::pair<int, int>> {
    char byte = 0;
    auto late = co_await read(pipe.read_end, &byte, 1).with_timeout(20ms);
    // A deadline that does not fire leaves the result alone.
    auto sent = co_await write(pipe.write_end, "x", 1).with_timeout(10s);
    co_return std::pair{error_of(late), static_cast<int>(sent.value_or(0))};
  }(pipe));
  EXPECT_EQ(timed_out, ETIME);
  EXPECT_EQ(in_time, 1);
}

TEST(EpollBackend, ThousandConcurrentPipeReads) {
  Reactor r(epoll_options());
  constexpr int kPipes = 250;
  constexpr int kReadsPerPipe = 4;
  std::vector<std::unique_ptr<OwnedPipe>> pipes;
  for (int i = 0; i < kPipes; ++i) pipes.push_back(std::make_unique<OwnedPipe>());
  std::vector<char> bytes(kPipes * kReadsPerPipe, 0);
  int failures = r.block_on(
      [](std::vector<std::unique_ptr<OwnedPipe>>& pipes, std::vector<char>& bytes) -> Task<int> {
        Join join;
        int failures = 0;
        for (int i = 0; i < kPipes * kReadsPerPipe; ++i) {
          spawn(
              [](int fd, char* byte, int& failures) -> Task<void> {
                auto n = co_await read(fd, byte, 1);
                if (!n || *n != 1) ++failures;
              }(pipes[i / kReadsPerPipe]->read_end, &bytes[i], failures),
              join);
        }
        for (auto& pipe : pipes) {
          auto n = co_await write(pipe->write_end, "wxyz", kReadsPerPipe);
          if (!n || *n != kReadsPerPipe) ++failures;
        }
        co_await join.wait();
        co_return failures;
      }(pipes, bytes));
  EXPECT_EQ(failures, 0);
  // Each pipe's four bytes went to its four readers, one each.
  for (int p = 0; p < kPipes; ++p) {
    std::string got(&bytes[p * kReadsPerPipe], kReadsPerPipe);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, "wxyz") << "pipe " << p;
  }
  EXPECT_EQ(r.in_flight(), 0u);
}

// --- Sockets ----------------------------------------------------------------------------------

TEST(EpollBackend, SendRecvOnASocketPairAndEpipe) {
  Reactor r(epoll_options());
  SocketPair pair;
  auto [got, broken] = r.block_on([](SocketPair& pair) -> Task<std::pair<std::string, int>> {
    auto sent = co_await send(pair.a, "ping", 4);
    EXPECT_EQ(sent.value_or(0), 4u);
    char buffer[8] = {};
    auto n = co_await recv(pair.b, buffer, sizeof buffer);
    ::close(std::exchange(pair.b, -1));
    auto after_close = co_await send(pair.a, "x", 1);
    co_return std::pair{std::string(buffer, n.value_or(0)), error_of(after_close)};
  }(pair));
  EXPECT_EQ(got, "ping");
  EXPECT_EQ(broken, EPIPE);
}

TEST(EpollBackend, PendingRecvAndPendingSendShareOneSocket) {
  Reactor r(epoll_options());
  SocketPair pair;
  int small = 4096;
  ::setsockopt(pair.a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(pair.b, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  // Fill a's send path so a send on it must wait for readiness too.
  std::vector<char> chunk(4096, 'f');
  std::size_t filled = 0;
  for (;;) {
    ssize_t n = ::send(pair.a, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  ASSERT_GT(filled, 0u);
  auto [reply, sent] =
      r.block_on([](SocketPair& pair, std::size_t filled) -> Task<std::pair<std::string, int>> {
        Join join;
        char buffer[8] = {};
        Result<std::size_t> received = 0u, sent = 0u;
        spawn(
            [](int fd, char* buffer, Result<std::size_t>& out) -> Task<void> {
              out = co_await recv(fd, buffer, 8);
            }(pair.a, buffer, received),
            join);
        spawn(
            [](int fd, Result<std::size_t>& out) -> Task<void> {
              out = co_await send(fd, "tail", 4);
            }(pair.a, sent),
            join);
        // Drain b so a's send can finish, then answer a's pending recv.
        std::vector<char> sink(64 * 1024);
        std::size_t drained = 0;
        while (drained < filled + 4) {
          auto n = co_await recv(pair.b, sink.data(), sink.size());
          if (!n || *n == 0) break;
          drained += *n;
        }
        EXPECT_EQ(drained, filled + 4);
        auto answered = co_await send(pair.b, "pong", 4);
        EXPECT_EQ(answered.value_or(0), 4u);
        co_await join.wait();
        co_return std::pair{std::string(buffer, received.value_or(0)),
                            static_cast<int>(sent.value_or(0))};
      }(pair, filled));
  EXPECT_EQ(reply, "pong");
  EXPECT_EQ(sent, 4);
}

TEST(EpollBackend, AcceptAndConnectOverLoopback) {
  Reactor r(epoll_options());
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // blocking, on purpose
  auto [accepted, connected, greeting] = r.block_on(
      [](int listener, int client, sockaddr_in address) -> Task<std::tuple<int, int, std::string>> {
        Join join;
        Result<int> accepted = fail(errno_code(EINVAL));
        spawn([](int listener, Result<int>& out) -> Task<void> { out = co_await accept(listener); }(
                                                     listener, accepted),
              join);
        auto connected =
            co_await connect_to(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
        co_await join.wait();
        std::string greeting;
        if (accepted) {
          co_await send(*accepted, "hi", 2);
          char buffer[4] = {};
          auto n = co_await recv(client, buffer, sizeof buffer);
          greeting.assign(buffer, n.value_or(0));
          ::close(*accepted);
        }
        co_return std::tuple{accepted.value_or(-1), error_of(connected), greeting};
      }(listener, client, address));
  EXPECT_GE(accepted, 0);
  EXPECT_EQ(connected, 0);
  EXPECT_EQ(greeting, "hi");
  // The connect left the caller's socket in blocking mode.
  EXPECT_EQ(::fcntl(client, F_GETFL) & O_NONBLOCK, 0);
  ::close(client);

  // Nobody listens on a bound-but-not-listening port: refused.
  int closed_port = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in refused{};
  refused.sin_family = AF_INET;
  refused.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(closed_port, reinterpret_cast<sockaddr*>(&refused), sizeof refused), 0);
  length = sizeof refused;
  ::getsockname(closed_port, reinterpret_cast<sockaddr*>(&refused), &length);
  int second = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int refused_error = r.block_on([](int fd, sockaddr_in to) -> Task<int> {
    co_return error_of(co_await connect_to(fd, reinterpret_cast<sockaddr*>(&to), sizeof to));
  }(second, refused));
  EXPECT_EQ(refused_error, ECONNREFUSED);
  ::close(second);
  ::close(closed_port);
  ::close(listener);
}

TEST(EpollBackend, PollReportsReadyEvents) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  auto [writable, readable] =
      r.block_on([](OwnedPipe& pipe) -> Task<std::pair<unsigned, unsigned>> {
        auto out = co_await poll(pipe.write_end, POLLOUT);
        Join join;
        Result<unsigned> in = 0u;
        spawn([](int fd, Result<unsigned>& in) -> Task<void> { in = co_await poll(fd, POLLIN); }(
                                                   pipe.read_end, in),
              join);
        co_await write(pipe.write_end, "x", 1);
        co_await join.wait();
        co_return std::pair{out.value_or(0), in.value_or(0)};
      }(pipe));
  EXPECT_TRUE(writable & POLLOUT);
  EXPECT_TRUE(readable & POLLIN);
}

// --- Files ------------------------------------------------------------------------------------

TEST(EpollBackend, FileOperationsSucceedAtOffsets) {
  Reactor r(epoll_options());
  ScratchDir dir;
  std::string file = dir / "data", renamed = dir / "renamed", sub = dir / "sub";
  r.block_on([](std::string file, std::string renamed, std::string sub) -> Task<void> {
    auto fd = co_await openat(AT_FDCWD, file.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_TRUE(fd.has_value());
    if (!fd) co_return;
    EXPECT_EQ((co_await write(*fd, "abcdef", 6, 0)).value_or(0), 6u);
    EXPECT_EQ((co_await write(*fd, "XY", 2, 10)).value_or(0), 2u);
    char buffer[8] = {};
    EXPECT_EQ((co_await read(*fd, buffer, 2, 10)).value_or(0), 2u);
    EXPECT_EQ(std::string(buffer, 2), "XY");
    // Vector I/O at an offset, then reads at the file position (still 0: nothing used it).
    char p[] = "12", q[] = "34";
    iovec out[2] = {{p, 2}, {q, 2}};
    EXPECT_EQ((co_await writev(*fd, out, 2, 2u)).value_or(0), 4u);
    char x[3] = {}, y[3] = {};
    iovec in[2] = {{x, 3}, {y, 3}};
    EXPECT_EQ((co_await readv(*fd, in, 2u)).value_or(0), 6u);
    EXPECT_EQ(std::string(x, 3) + std::string(y, 3), "ab1234");
    EXPECT_EQ((co_await read(*fd, buffer, 2)).value_or(0), 2u);  // continues at 6
    EXPECT_EQ(buffer[0], '\0');                                  // the hole before 10
    EXPECT_TRUE((co_await fsync(*fd)).has_value());
    EXPECT_TRUE((co_await fsync(*fd, true)).has_value());
    struct statx st {};
    EXPECT_TRUE((co_await statx_at(AT_FDCWD, file.c_str(), 0, STATX_SIZE, &st)).has_value());
    EXPECT_EQ(st.stx_size, 12u);
    EXPECT_TRUE((co_await close(*fd)).has_value());
    EXPECT_TRUE((co_await renameat(AT_FDCWD, file.c_str(), AT_FDCWD, renamed.c_str())).has_value());
    EXPECT_TRUE((co_await mkdirat(AT_FDCWD, sub.c_str(), 0700)).has_value());
    EXPECT_TRUE((co_await unlinkat(AT_FDCWD, sub.c_str(), AT_REMOVEDIR)).has_value());
    EXPECT_TRUE((co_await unlinkat(AT_FDCWD, renamed.c_str())).has_value());
  }(file, renamed, sub));
  EXPECT_FALSE(std::filesystem::exists(renamed));
  EXPECT_FALSE(std::filesystem::exists(sub));
}

TEST(EpollBackend, FileOperationsReportEnoentAndEexist) {
  Reactor r(epoll_options());
  ScratchDir dir;
  std::string missing = dir / "missing/child", existing = dir.path;
  std::vector<int> errors =
      r.block_on([](std::string missing, std::string existing) -> Task<std::vector<int>> {
        std::vector<int> out;
        struct statx st {};
        out.push_back(error_of(co_await openat(AT_FDCWD, missing.c_str(), O_RDONLY)));
        out.push_back(error_of(co_await statx_at(AT_FDCWD, missing.c_str(), 0, STATX_SIZE, &st)));
        out.push_back(error_of(co_await unlinkat(AT_FDCWD, missing.c_str())));
        out.push_back(error_of(
            co_await renameat(AT_FDCWD, missing.c_str(), AT_FDCWD, (existing + "/x").c_str())));
        out.push_back(error_of(co_await mkdirat(AT_FDCWD, missing.c_str(), 0700)));
        out.push_back(error_of(co_await mkdirat(AT_FDCWD, existing.c_str(), 0700)));
        co_return out;
      }(missing, existing));
  EXPECT_EQ(errors, (std::vector<int>{ENOENT, ENOENT, ENOENT, ENOENT, ENOENT, EEXIST}));
}

TEST(EpollBackend, CancelledFileOperationThatHasNotStartedIsEcanceled) {
  Reactor r(epoll_options());
  ScratchDir dir;
  std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto [cancelled, opened] = r.block_on([](std::string fifo) -> Task<std::pair<int, int>> {
    // Two opens of a FIFO with no writer block both pool threads; a third job must queue.
    Join openers;
    Result<int> first = fail(errno_code(EINVAL)), second = fail(errno_code(EINVAL));
    for (Result<int>* out : {&first, &second}) {
      spawn(
          [](const char* path, Result<int>& out) -> Task<void> {
            out = co_await openat(AT_FDCWD, path, O_RDONLY);
          }(fifo.c_str(), *out),
          openers);
    }
    std::stop_source source;
    Join queued;
    struct statx st {};
    Result<void> stat_result;
    spawn(
        [](const char* path, struct statx* st, std::stop_token token,
           Result<void>& out) -> Task<void> {
          out = co_await statx_at(AT_FDCWD, path, 0, STATX_SIZE, st).with_stop(token);
        }(fifo.c_str(), &st, source.get_token(), stat_result),
        queued);
    source.request_stop();
    co_await queued.wait();
    // Release the openers: a writer may open once a reader is waiting in open(2).
    int writer = -1;
    for (int tries = 0; tries < 10'000 && writer < 0; ++tries) {
      writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (writer < 0) co_await sleep_for(1ms);
    }
    co_await openers.wait();
    int both_opened = (first.has_value() && second.has_value()) ? 1 : 0;
    if (first) ::close(*first);
    if (second) ::close(*second);
    if (writer >= 0) ::close(writer);
    co_return std::pair{error_of(stat_result), both_opened};
  }(fifo));
  EXPECT_EQ(cancelled, ECANCELED);
  EXPECT_EQ(opened, 1);
}

// --- Children ---------------------------------------------------------------------------------

pid_t fork_child(bool wait_for_kill) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (wait_for_kill) {
      for (;;) ::pause();
    }
    ::_exit(3);
  }
  return pid;
}

TEST(EpollBackend, WaitidReportsAnExitedChild) {
  Reactor r(epoll_options());
  pid_t pid = fork_child(false);
  ASSERT_GT(pid, 0);
  auto exit = r.block_on([](pid_t pid) -> Task<Result<ChildExit>> {
    co_return co_await waitid(P_PID, static_cast<id_t>(pid));
  }(pid));
  ASSERT_TRUE(exit.has_value()) << exit.error().message();
  EXPECT_EQ(exit->pid, pid);
  EXPECT_EQ(exit->code, CLD_EXITED);
  EXPECT_EQ(exit->status, 3);
}

TEST(EpollBackend, WaitidThroughAPidfdReportsAKilledChild) {
  Reactor r(epoll_options());
  pid_t pid = fork_child(true);
  ASSERT_GT(pid, 0);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0);
  auto exit = r.block_on([](pid_t pid, int pidfd) -> Task<Result<ChildExit>> {
    Join join;
    Result<ChildExit> out = fail(errno_code(EINVAL));
    spawn(
        [](int pidfd, Result<ChildExit>& out) -> Task<void> {
          out = co_await waitid(static_cast<idtype_t>(3 /* P_PIDFD */), static_cast<id_t>(pidfd));
        }(pidfd, out),
        join);
    ::kill(pid, SIGKILL);  // the wait is pending by now
    co_await join.wait();
    co_return out;
  }(pid, pidfd));
  ::close(pidfd);
  ASSERT_TRUE(exit.has_value()) << exit.error().message();
  EXPECT_EQ(exit->pid, pid);
  EXPECT_EQ(exit->code, CLD_KILLED);
  EXPECT_EQ(exit->status, SIGKILL);
  EXPECT_EQ(exit->shell_status(), 128 + SIGKILL);
}

TEST(EpollBackend, WaitidOnAProcessThatIsNotOurChildIsEchild) {
  Reactor r(epoll_options());
  auto errors = r.block_on([]() -> Task<std::pair<int, int>> {
    int not_ours = error_of(co_await waitid(P_PID, 1));
    int all = error_of(co_await waitid(P_ALL, 0));  // no pidfd to wait on: refused plainly
    co_return std::pair{not_ours, all};
  }());
  EXPECT_EQ(errors.first, ECHILD);
  EXPECT_EQ(errors.second, EINVAL);
}

// --- Cross-thread wake-ups --------------------------------------------------------------------

TEST(EpollBackend, PostFromAnotherThreadWakesTheOwner) {
  Reactor r(epoll_options());
  OwnedPipe pipe;
  std::thread poster;
  auto got =
      r.block_on([](Reactor& r, OwnedPipe& pipe, std::thread& poster) -> Task<Result<std::size_t>> {
        // Only the posted function writes, and only the owner thread runs it: the read finishes
        // only if post() woke the owner out of epoll_wait.
        poster = std::thread([&r, fd = pipe.write_end] {
          r.post([fd] { [[maybe_unused]] ssize_t n = ::write(fd, "p", 1); });
        });
        char byte = 0;
        co_return co_await read(pipe.read_end, &byte, 1).with_timeout(20s);
      }(r, pipe, poster));
  poster.join();
  EXPECT_EQ(got.value_or(0), 1u);
}

// --- The Backend interface: wake, chains, teardown -------------------------------------------

struct Record {
  std::vector<std::pair<OpKind, int>> completions;
};

void record_completion(Operation& op) {
  static_cast<Record*>(op.owner)->completions.emplace_back(op.kind, op.result);
}

Operation make_op(OpKind kind, int fd, Record& record) {
  Operation op;
  op.kind = kind;
  op.fd = fd;
  op.owner = &record;
  op.complete = &record_completion;
  op.offset = kCurrentPosition;
  return op;
}

int run_until(Backend& backend, Record& record, std::size_t count) {
  int counted = 0;
  while (record.completions.size() < count) counted += backend.run_once(true);
  return counted;
}

TEST(EpollBackend, WakeFromAnotherThreadEndsABlockingRunOnce) {
  auto backend = make_epoll_backend();
  std::thread waker([&backend] { backend->wake(); });
  EXPECT_EQ(backend->run_once(true), 0);  // returns: nothing completed, but it woke
  waker.join();
}

TEST(EpollBackend, ChainRunsInOrderWhileEachStepSucceeds) {
  auto backend = make_epoll_backend();
  OwnedPipe pipe;
  Record record;
  char out[] = "abc", in[4] = {};
  Operation write_op = make_op(OpKind::Write, pipe.write_end, record);
  write_op.buffer = out;
  write_op.length = 3;
  Operation read_op = make_op(OpKind::Read, pipe.read_end, record);
  read_op.buffer = in;
  read_op.length = 3;
  Operation nop_op = make_op(OpKind::Nop, -1, record);
  write_op.linked_next = &read_op;
  read_op.linked_next = &nop_op;
  backend->submit(write_op);
  EXPECT_EQ(run_until(*backend, record, 3), 3);
  using Done = std::pair<OpKind, int>;
  EXPECT_EQ(record.completions,
            (std::vector<Done>{{OpKind::Write, 3}, {OpKind::Read, 3}, {OpKind::Nop, 0}}));
  EXPECT_EQ(std::string(in), "abc");
  EXPECT_FALSE(write_op.in_flight || read_op.in_flight || nop_op.in_flight);
}

TEST(EpollBackend, ChainStopsAtTheFirstFailure) {
  auto backend = make_epoll_backend();
  Record record;
  char byte = 0;
  Operation failing = make_op(OpKind::Read, kBadFd, record);
  failing.buffer = &byte;
  failing.length = 1;
  Operation second = make_op(OpKind::Nop, -1, record);
  Operation third = make_op(OpKind::Timeout, -1, record);
  third.time.tv_sec = 3600;
  failing.linked_next = &second;
  second.linked_next = &third;
  backend->submit(failing);
  EXPECT_EQ(run_until(*backend, record, 3), 3);
  using Done = std::pair<OpKind, int>;
  EXPECT_EQ(record.completions,
            (std::vector<Done>{
                {OpKind::Read, -EBADF}, {OpKind::Nop, -ECANCELED}, {OpKind::Timeout, -ECANCELED}}));
}

TEST(EpollBackend, TimeoutExpiresWithEtimeAndCancelGivesEcanceled) {
  auto backend = make_epoll_backend();
  Record record;
  Operation short_timer = make_op(OpKind::Timeout, -1, record);
  short_timer.time.tv_nsec = 1'000'000;
  backend->submit(short_timer);
  run_until(*backend, record, 1);
  Operation long_timer = make_op(OpKind::Timeout, -1, record);
  long_timer.time.tv_sec = 3600;
  backend->submit(long_timer);
  backend->cancel(long_timer);
  run_until(*backend, record, 2);
  using Done = std::pair<OpKind, int>;
  EXPECT_EQ(record.completions,
            (std::vector<Done>{{OpKind::Timeout, -ETIME}, {OpKind::Timeout, -ECANCELED}}));
}

TEST(EpollBackend, DestructionCancelsWhatIsPending) {
  OwnedPipe pipe;
  Record record;
  char byte = 0;
  Operation read_op = make_op(OpKind::Read, pipe.read_end, record);
  read_op.buffer = &byte;
  read_op.length = 1;
  {
    auto backend = make_epoll_backend();
    backend->submit(read_op);
    backend->run_once(false);
    EXPECT_TRUE(record.completions.empty());
  }
  using Done = std::pair<OpKind, int>;
  EXPECT_EQ(record.completions, (std::vector<Done>{{OpKind::Read, -ECANCELED}}));
  // The caller's fd survived: the backend never owns it.
  EXPECT_EQ(::write(pipe.write_end, "z", 1), 1);
  EXPECT_EQ(::read(pipe.read_end, &byte, 1), 1);
}

}  // namespace
}  // namespace corral::reactor
