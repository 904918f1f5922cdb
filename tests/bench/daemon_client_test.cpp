// corral-bench's corrald client (apps/corral-bench/daemon_client.hpp) against a fake daemon: a
// unix socket served by threads that answer each request line with an item line first (as
// corrald's `events` subscribers get) and then the response, echoing the request's `n`.
#include "apps/corral-bench/daemon_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace corral::bench {
namespace {

using nlohmann::json;

std::string read_line(int fd, bool& open) {
  std::string line;
  char c;
  while (true) {
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) {
      open = false;
      return line;
    }
    if (c == '\n') return line;
    line += c;
  }
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

class FakeDaemon {
 public:
  // `answer_limit`: how many requests each connection answers before it closes (-1: all).
  explicit FakeDaemon(int answer_limit = -1) : answer_limit_(answer_limit) {
    char pattern[] = "/tmp/corral-bench-client-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    path_ = dir_ + "/control.sock";
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, path_.size());
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0)
      std::abort();
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        ++connections_;
        servers_.emplace_back([this, fd] { serve(fd); });
      }
    });
  }
  ~FakeDaemon() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    for (auto& t : servers_) t.join();
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }
  int connections() const { return connections_; }

 private:
  void serve(int fd) {
    bool open = true;
    for (int answered = 0; answer_limit_ < 0 || answered < answer_limit_; ++answered) {
      std::string line = read_line(fd, open);
      if (!open) break;
      auto request = json::parse(line, nullptr, false);
      if (request.value("verb", "") == "fail") {
        write_all(
            fd,
            json{{"ok", false}, {"error", {{"code", "IdInUse"}, {"message", "m"}}}}.dump() + "\n");
        continue;
      }
      // An item line and the response in separate writes: the client must skip the first and
      // put the second together from whatever pieces arrive.
      write_all(fd, json{{"event", {{"type", "exited"}}}}.dump() + "\n");
      std::string response = json{{"ok", true}, {"echo", request.value("n", -1)}}.dump() + "\n";
      write_all(fd, response.substr(0, 5));
      write_all(fd, response.substr(5));
    }
    ::close(fd);
  }

  int answer_limit_;
  std::string dir_, path_;
  int listener_ = -1;
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> servers_;
};

TEST(DaemonClient, RequestReturnsTheResponseAndSkipsItemLines) {
  FakeDaemon daemon;
  DaemonConnection connection(daemon.path());
  for (int n = 0; n < 3; ++n) {
    json answer = connection.request({{"verb", "run"}, {"n", n}});
    EXPECT_EQ(answer.value("echo", -1), n) << answer.dump();
    EXPECT_EQ(response_error(answer), "");
  }
}

TEST(DaemonClient, ErrorResponsesAreNamedByCodeAndMessage) {
  FakeDaemon daemon;
  DaemonConnection connection(daemon.path());
  EXPECT_EQ(response_error(connection.request({{"verb", "fail"}})), "IdInUse: m");
}

TEST(DaemonClient, RequestAllAnswersEveryIndexOnceWithItsOwnResponse) {
  FakeDaemon daemon;
  std::vector<DaemonConnection> connections;
  for (int c = 0; c < 3; ++c) connections.emplace_back(daemon.path());
  std::map<int, int> answers;  // index -> echoed n
  request_all(
      connections, 20,
      [](int i) -> json {
        return {{"verb", "run"}, {"n", i}};
      },
      [&](int i, const json& answer) {
        EXPECT_FALSE(answers.count(i)) << "index " << i << " answered twice";
        answers[i] = answer.value("echo", -1);
      });
  ASSERT_EQ(answers.size(), 20u);
  for (auto [i, echo] : answers) EXPECT_EQ(echo, i);
  EXPECT_EQ(daemon.connections(), 3);
}

TEST(DaemonClient, ADaemonThatClosesInsteadOfAnsweringIsAnError) {
  FakeDaemon daemon(/*answer_limit=*/1);
  DaemonConnection connection(daemon.path());
  connection.request({{"verb", "run"}, {"n", 1}});
  EXPECT_THROW(connection.request({{"verb", "run"}, {"n", 2}}), std::runtime_error);

  std::vector<DaemonConnection> connections;
  connections.emplace_back(daemon.path());
  EXPECT_THROW(request_all(
                   connections, 3,
                   [](int i) -> json {
                     return {{"verb", "run"}, {"n", i}};
                   },
                   [](int, const json&) {}),
               std::runtime_error);
}

TEST(DaemonClient, ConnectingToNoDaemonNamesTheSocket) {
  try {
    DaemonConnection connection("/nonexistent/corrald.sock");
    FAIL() << "connected to nothing";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/corrald.sock"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace corral::bench
