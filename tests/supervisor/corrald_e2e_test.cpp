// The corrald binary end to end: a daemon on a temporary root and socket, real busybox
// containers (corral spec's default config with another command), driven through a raw socket
// and through corralctl.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli/temp_dir.hpp"
#include "runtime/spec/default_spec.hpp"

extern char** environ;

namespace corral::supervisor {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kCorrald = CORRAL_BINARY_DIR "/apps/corrald/corrald";
const std::string kCorralctl = CORRAL_BINARY_DIR "/apps/corralctl/corralctl";

// One client connection speaking newline-delimited JSON, with a receive timeout so that a
// daemon that never answers fails the test instead of hanging it.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{60, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send_raw(const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  void send(const json& request) { ASSERT_TRUE(send_raw(request.dump() + "\n")); }

  // The next line as JSON; null on end of stream or timeout.
  json next() {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return json::parse(line);
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return nullptr;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  json call(const json& request) {
    send(request);
    return next();
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

struct Outcome {
  int status = -1;
  std::string out;
};

class CorraldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "corrald's tests make real containers: run them as root";
    root_ = dir_.file("root");
    socket_ = dir_.file("ctl.sock");
    rootfs_ = dir_.file("bundle/rootfs");
    std::filesystem::create_directories(rootfs_ + "/bin");
    std::filesystem::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* tool : {"sh", "echo", "sleep", "cat", "true"})
      std::filesystem::create_symlink("busybox", rootfs_ + "/bin/" + tool);
    start_daemon();
  }

  void TearDown() override {
    if (daemon_ > 0) {
      // Whatever a failed test left behind is removed with its cgroup.
      Client c(socket_);
      if (c.connected())
        for (const std::string& id : ids_)
          c.call({{"verb", "delete"}, {"id", id}, {"force", true}});
      ::kill(daemon_, SIGKILL);
      ::waitpid(daemon_, nullptr, 0);
    }
    if (HasFailure()) std::fprintf(stderr, "daemon log:\n%s\n", dir_.read("daemon.log").c_str());
  }

  std::string make_id(const std::string& name) {
    ids_.push_back("corrald-" + name + "-" + std::to_string(::getpid()));
    return ids_.back();
  }

  // A bundle directory running `args` (its own config.json next to the shared rootfs).
  std::string bundle(const std::string& name, const std::vector<std::string>& args) {
    std::string path = dir_.file("bundle-" + name);
    std::filesystem::create_directories(path);
    json spec = default_spec(false);
    spec["process"]["args"] = args;
    spec["process"]["terminal"] = false;
    spec["root"]["path"] = rootfs_;
    std::ofstream(path + "/config.json") << spec.dump(2);
    return path;
  }

  void start_daemon() {
    std::vector<std::string> storage{kCorrald, "--root", root_, "--socket", socket_};
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, dir_.file("daemon.log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    ASSERT_EQ(posix_spawn(&daemon_, kCorrald.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // Up when it answers (bounded by a generous limit, never asserted as a timing).
    for (int i = 0; i < 600; ++i) {
      Client c(socket_);
      if (c.connected() && c.call({{"verb", "list"}}).value("ok", false)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "corrald did not come up; log:\n" << dir_.read("daemon.log");
  }

  int stop_daemon(int signal) {
    ::kill(daemon_, signal);
    int status = 0;
    ::waitpid(daemon_, &status, 0);
    daemon_ = -1;
    return status;
  }

  Outcome corralctl(const std::vector<std::string>& args) {
    std::vector<std::string> storage{kCorralctl, "--socket", socket_};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string out_path = dir_.file("ctl.out");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    pid_t pid;
    Outcome outcome;
    if (posix_spawn(&pid, kCorralctl.c_str(), &actions, nullptr, argv.data(), environ) != 0)
      return outcome;
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    ::waitpid(pid, &status, 0);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    outcome.out = dir_.read("ctl.out");
    return outcome;
  }

  cli::testing::TempDir dir_;
  std::string root_, socket_, rootfs_;
  pid_t daemon_ = -1;
  std::vector<std::string> ids_;
};

TEST_F(CorraldTest, RunWaitLogsEventsThroughTheSocket) {
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  Client events(socket_);
  auto subscribed = events.call({{"verb", "events"}, {"tag", "ev"}});
  ASSERT_EQ(subscribed["ok"], true) << subscribed;

  std::string id = make_id("run");
  std::string b = bundle("run", {"sh", "-c", "echo hello; echo oops >&2; exit 3"});
  Client c(socket_);
  auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}, {"tag", 1}});
  ASSERT_EQ(run["ok"], true) << run;
  EXPECT_EQ(run["tag"], 1);
  auto waited = c.call({{"verb", "wait"}, {"id", id}});
  ASSERT_EQ(waited["ok"], true) << waited;
  EXPECT_EQ(waited["exit"]["known"], true);
  EXPECT_EQ(waited["exit"]["status"], 3);
  EXPECT_EQ(waited["exit"]["code"], "exited");

  // The exit and its time are in state.json.
  std::ifstream state_file(root_ + "/containers/" + id + "/state.json");
  const json state = json::parse(state_file);
  ASSERT_TRUE(state.contains("exit")) << state.dump();
  EXPECT_EQ(state["exit"]["status"], 3) << state.dump();
  EXPECT_GT(state["exit"]["time_ns"].get<long long>(), 0);

  // Logs in CRI format, both streams (their relative order is not defined).
  c.send({{"verb", "logs"}, {"id", id}});
  std::vector<std::string> lines;
  for (json item = c.next(); !item.is_null() && !item.contains("ok"); item = c.next())
    lines.push_back(item["log"]);
  const std::regex cri(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] .*$)");
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(line, cri)) << line;
  EXPECT_THAT(lines, ::testing::UnorderedElementsAre(::testing::EndsWith(" stdout F hello"),
                                                     ::testing::EndsWith(" stderr F oops")));

  // The subscription saw created, started, exited(3), in that order.
  std::vector<std::string> seen;
  while (seen.size() < 3) {
    json item = events.next();
    ASSERT_FALSE(item.is_null()) << "events stream ended after " << seen.size();
    EXPECT_EQ(item["tag"], "ev");
    if (item["event"]["id"] != id) continue;
    seen.push_back(item["event"]["type"]);
    if (item["event"]["type"] == "exited") {
      EXPECT_EQ(item["event"]["exit"]["status"], 3);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"created", "started", "exited"}));

  auto deleted = c.call({{"verb", "delete"}, {"id", id}});
  EXPECT_EQ(deleted["ok"], true) << deleted;
  json item = events.next();
  EXPECT_EQ(item["event"]["type"], "deleted");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/containers/" + id));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/supervised/" + id));
  EXPECT_EQ(c.call({{"verb", "state"}, {"id", id}})["error"]["code"], "ContainerNotExists");
}

TEST_F(CorraldTest, CorralctlRunsWaitsAndReadsLogs) {
  std::string id = make_id("ctl");
  std::string b = bundle("ctl", {"sh", "-c", "echo from-ctl; exit 3"});
  Outcome run = corralctl({"run", id, b});
  ASSERT_EQ(run.status, 0) << run.out;
  Outcome wait = corralctl({"wait", id});
  EXPECT_EQ(wait.status, 3) << wait.out;  // the container's status becomes corralctl's
  Outcome logs = corralctl({"logs", id});
  EXPECT_EQ(logs.status, 0);
  EXPECT_THAT(logs.out, HasSubstr(" stdout F from-ctl\n"));
  Outcome unknown = corralctl({"state", "no-such-container"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.out, HasSubstr("ContainerNotExists"));
  EXPECT_EQ(corralctl({"delete", id}).status, 0);
}

TEST_F(CorraldTest, OnFailureTwoRestartsTwiceThenStops) {
  Client events(socket_);
  ASSERT_EQ(events.call({{"verb", "events"}})["ok"], true);
  std::string id = make_id("restart");
  std::string b = bundle("restart", {"sh", "-c", "echo run; exit 3"});
  Client c(socket_);
  auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}, {"restart", "on-failure:2"}});
  ASSERT_EQ(run["ok"], true) << run;
  auto waited = c.call({{"verb", "wait"}, {"id", id}});
  ASSERT_EQ(waited["ok"], true) << waited;
  EXPECT_EQ(waited["exit"]["status"], 3);
  auto state = c.call({{"verb", "state"}, {"id", id}});
  EXPECT_EQ(state["container"]["status"], "stopped") << state;
  EXPECT_EQ(state["container"]["restart_count"], 2) << state;

  int exited = 0, restarted = 0;
  while (exited < 3) {
    json item = events.next();
    ASSERT_FALSE(item.is_null());
    if (item["event"]["id"] != id) continue;
    if (item["event"]["type"] == "exited") ++exited;
    if (item["event"]["type"] == "restarted") ++restarted;
  }
  EXPECT_EQ(restarted, 2);
  // Every run wrote to the same log.
  c.send({{"verb", "logs"}, {"id", id}});
  int runs = 0;
  for (json item = c.next(); !item.is_null() && !item.contains("ok"); item = c.next())
    runs += item["log"].get<std::string>().ends_with(" stdout F run");
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}})["ok"], true);
}

TEST_F(CorraldTest, BadRequestsGetErrorsAndTheConnectionSurvives) {
  Client c(socket_);
  EXPECT_EQ(c.call(json("x"))["error"]["code"], "BadRequest");
  ASSERT_TRUE(c.send_raw("{not json\n"));
  EXPECT_EQ(c.next()["error"]["code"], "BadRequest");
  EXPECT_EQ(c.call({{"verb", "frobnicate"}})["error"]["code"], "UnknownVerb");
  EXPECT_EQ(c.call({{"verb", "start"}})["error"]["message"], "start: field \"id\" is required");
  EXPECT_EQ(c.call({{"verb", "kill"}, {"id", "nope"}})["error"]["code"], "ContainerNotExists");
  // 10 MiB without a newline, then a newline and a good request.
  ASSERT_TRUE(c.send_raw(std::string(10 * 1024 * 1024, 'x') + "\n"));
  EXPECT_EQ(c.next()["error"]["code"], "TooLarge");
  auto list = c.call({{"verb", "list"}, {"tag", "after"}});
  EXPECT_EQ(list["ok"], true) << list;
  EXPECT_EQ(list["tag"], "after");
}

TEST_F(CorraldTest, LogsFollowSeesLinesWrittenLater) {
  std::string id = make_id("follow");
  // The second line waits for a file the test creates once it follows the log.
  std::string b = bundle("follow", {"sh", "-c",
                                    "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
                                    "echo second; sleep 1000"});
  Client c(socket_);
  auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}});
  ASSERT_EQ(run["ok"], true) << run;
  Client follower(socket_);
  follower.send({{"verb", "logs"}, {"id", id}, {"follow", true}});
  std::vector<std::string> before;
  json item = follower.next();
  for (; !item.is_null() && !item.contains("ok"); item = follower.next())
    before.push_back(item["log"]);
  ASSERT_EQ(item["end_of_log"], true) << item;
  // "first" may not have been captured yet when the dump ran: it then comes through follow.
  std::vector<std::string> all = before;
  auto release_second_line = [&] {
    // The container's /tmp is its rootfs' /tmp.
    std::filesystem::create_directories(rootfs_ + "/tmp");
    std::ofstream(rootfs_ + "/tmp/go") << "go";
  };
  release_second_line();
  while (all.empty() || !all.back().ends_with(" stdout F second")) {
    item = follower.next();
    ASSERT_FALSE(item.is_null()) << "follow ended early";
    all.push_back(item["log"]);
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].ends_with(" stdout F first")) << all[0];
  EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}, {"force", true}})["ok"], true);
}

TEST_F(CorraldTest, AHalfClosedClientStillGetsItsAnswers) {
  Client c(socket_);
  ASSERT_TRUE(c.send_raw("{\"verb\":\"list\",\"tag\":1}\n{\"verb\":\"stats\",\"tag\":2}\n"));
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_EQ(c.next()["tag"], 1);
  EXPECT_EQ(c.next()["tag"], 2);
  EXPECT_TRUE(c.next().is_null());  // then the daemon closes
}

TEST_F(CorraldTest, AClientThatNeverReadsDoesNotStopTheOthers) {
  Client greedy(socket_);
  ASSERT_TRUE(greedy.connected());
  int flags = ::fcntl(greedy.fd(), F_GETFL);
  ::fcntl(greedy.fd(), F_SETFL, flags | O_NONBLOCK);
  // Requests whose answers (~130 bytes each) it never reads: the daemon must drop it once its
  // output queue is full, which the greedy client sees as a failed send.
  std::string burst;
  for (int i = 0; i < 1000; ++i)
    burst += R"({"verb":"stats"})"
             "\n";
  bool dropped = false;
  for (int i = 0; i < 20'000 && !dropped; ++i) {
    if (::send(greedy.fd(), burst.data(), burst.size(), MSG_NOSIGNAL) >= 0) continue;
    if (errno == EAGAIN)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    else
      dropped = true;
  }
  EXPECT_TRUE(dropped);
  EXPECT_THAT(dir_.read("daemon.log"), HasSubstr("output queue full"));
  Client other(socket_);
  auto list = other.call({{"verb", "list"}});
  EXPECT_EQ(list["ok"], true) << list;
}

TEST_F(CorraldTest, SigtermLeavesContainersRunningAndTheNextDaemonAdoptsThem) {
  std::string id = make_id("survivor");
  std::string b = bundle("survivor", {"sleep", "1000"});
  pid_t pid = 0;
  {
    Client c(socket_);
    auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}});
    ASSERT_EQ(run["ok"], true) << run;
    pid = run["container"]["pid"];
    ASSERT_GT(pid, 0);
  }
  int status = stop_daemon(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(socket_));
  EXPECT_EQ(::kill(pid, 0), 0) << "the container died with the daemon";

  start_daemon();
  Client c(socket_);
  auto state = c.call({{"verb", "state"}, {"id", id}});
  ASSERT_EQ(state["ok"], true) << state;
  EXPECT_EQ(state["container"]["status"], "running");
  EXPECT_EQ(state["container"]["pid"], pid);

  // Not its parent any more: the exit is seen, its status honestly unknown.
  EXPECT_EQ(c.call({{"verb", "kill"}, {"id", id}, {"signal", "KILL"}})["ok"], true);
  auto waited = c.call({{"verb", "wait"}, {"id", id}});
  ASSERT_EQ(waited["ok"], true) << waited;
  EXPECT_EQ(waited["exit"]["known"], false);
  EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}})["ok"], true);
}

TEST_F(CorraldTest, ShutdownRequestWithStopContainers) {
  std::string id = make_id("stopped");
  std::string b = bundle("stopped", {"sleep", "1000"});
  Client c(socket_);
  auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}});
  ASSERT_EQ(run["ok"], true) << run;
  pid_t pid = run["container"]["pid"];
  EXPECT_EQ(c.call({{"verb", "shutdown"}, {"stop_containers", true}})["ok"], true);
  int status = 0;
  ::waitpid(daemon_, &status, 0);
  daemon_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(::kill(pid, 0), 0) << "--stop-containers left the container running";
  start_daemon();
  Client again(socket_);
  auto state = again.call({{"verb", "state"}, {"id", id}});
  EXPECT_EQ(state["container"]["status"], "stopped") << state;
}

TEST_F(CorraldTest, PeersOtherThanRootOrTheDaemonsUserAreRefused) {
  // The socket's mode already keeps others out; open it up to reach the SO_PEERCRED check.
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    Client c(socket_);
    if (!c.connected()) ::_exit(11);
    c.send_raw("{\"verb\":\"list\"}\n");
    std::string line = c.next().dump();
    (void)!::write(pipefd[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(answer, HasSubstr("PermissionDenied"));
  EXPECT_THAT(answer, HasSubstr("uid 65534"));
}

}  // namespace
}  // namespace corral::supervisor
