// The corrald binary end to end: a daemon on a temporary root and socket, real busybox
// containers (corral spec's default config with another command), driven through a raw socket
// and through corralctl.
#include <poll.h>

#include "corrald_fixture.hpp"
#include "runtime/proc_stat.hpp"

namespace corral::supervisor {
namespace {

using namespace corral::supervisor::testing;
using nlohmann::json;
using ::testing::HasSubstr;

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

  // Logs in CRI format, both streams (their relative order is not defined); the keeper may
  // write them just after `wait` answered.
  std::vector<std::string> lines;
  for (int attempt = 0; attempt < 200 && lines.size() < 2; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.send({{"verb", "logs"}, {"id", id}});
    lines.clear();
    for (json item = c.next(); !item.is_null() && !item.contains("ok"); item = c.next())
      lines.push_back(item["log"]);
  }
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
  // Every run wrote to the same log. The keeper writes it as it reads the pipes, which may
  // be just after `wait` answered: looked at again until the last run's line is there.
  int runs = 0;
  for (int attempt = 0; attempt < 200 && runs < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.send({{"verb", "logs"}, {"id", id}});
    runs = 0;
    for (json item = c.next(); !item.is_null() && !item.contains("ok"); item = c.next())
      runs += item["log"].get<std::string>().ends_with(" stdout F run");
  }
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

// corrald is a child subreaper: what a hook leaves running becomes corrald's child when the
// hook exits, and nobody waits for it. The orphan reaper must reap it once it exits, and
// leave the container's own init (a known child) alone.
TEST_F(CorraldTest, AnOrphanLeftByAHookIsReapedAndTheInitIsNot) {
  std::string id = make_id("orphan");
  std::string b = bundle("orphan", {"sleep", "1000"});
  json spec = json::parse(std::ifstream(b + "/config.json"));
  spec["hooks"]["poststart"] =
      json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "(sleep 0.3; exit 3) & exit 0"}}}});
  std::ofstream(b + "/config.json") << spec.dump();
  Client c(socket_);
  auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", b}});
  ASSERT_EQ(run["ok"], true) << run;
  pid_t daemon = corrald_pid();
  ASSERT_GT(daemon, 0);
  auto zombie_children = [&] {
    int zombies = 0;
    std::ifstream children("/proc/" + std::to_string(daemon) + "/task/" + std::to_string(daemon) +
                           "/children");
    for (pid_t pid; children >> pid;) {
      auto stat = read_proc_stat(pid);
      zombies += stat && stat->state == 'Z';
    }
    return zombies;
  };
  // Reaped within two settle periods (1 s each) of its exit; a generous bound, not a timing.
  bool reaped = false;
  for (int i = 0; i < 300 && !reaped; ++i) {
    reaped = dir_.read("daemon.log").find("reaped orphan") != std::string::npos;
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(reaped) << dir_.read("daemon.log");
  EXPECT_EQ(zombie_children(), 0);
  auto state = c.call({{"verb", "state"}, {"id", id}});
  EXPECT_EQ(state["container"]["status"], "running") << state;
  EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}, {"force", true}})["ok"], true);
}

// A graceful stop leaves the containers running, and the keeper with them: their output still
// has a reader (no line lost, no SIGPIPE) and their exits a reaper (true statuses), until the
// next corrald on the root takes them over. The keeper ends once nothing is left to keep.
TEST_F(CorraldTest, SigtermLeavesContainersRunningWithTheirLogsAndTheNextDaemonAdoptsThem) {
  std::string printer = make_id("printer"), quitter = make_id("quitter");
  std::string p = bundle("printer", {"sh", "-c",
                                     "i=0; while [ $i -lt 300 ]; do echo $i; i=$((i+1)); "
                                     "sleep 0.01; done"});
  std::string q = bundle("quitter", {"sh", "-c", "sleep 1; exit 42"});
  pid_t printer_pid = 0;
  {
    Client c(socket_);
    auto run = c.call({{"verb", "run"}, {"id", printer}, {"bundle", p}});
    ASSERT_EQ(run["ok"], true) << run;
    printer_pid = run["container"]["pid"];
    ASSERT_EQ(c.call({{"verb", "run"}, {"id", quitter}, {"bundle", q}})["ok"], true);
  }
  pid_t keeper = keeper_pid();
  ASSERT_GT(keeper, 0);
  int status = stop_daemon(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(socket_));
  EXPECT_EQ(corrald_pid(), 0) << "corrald outlived its front";
  EXPECT_EQ(keeper_pid(), keeper) << "the keeper ended with containers still running";
  EXPECT_EQ(::kill(printer_pid, 0), 0) << "the container died with the daemon";
  // The quitter exits while no corrald runs.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  EXPECT_THAT(dir_.read("root/keeper/keeper.log"), HasSubstr("keeping their logs and exits"));

  // The next front's environment is corrald's, though the keeper was started by the first.
  ::setenv("CORRALD_TEST_FRONT", "second", 1);
  start_daemon();
  ::unsetenv("CORRALD_TEST_FRONT");
  EXPECT_EQ(keeper_pid(), keeper) << "the next corrald did not go to the same keeper";
  EXPECT_THAT(read_small("/proc/" + std::to_string(corrald_pid()) + "/environ"),
              HasSubstr("CORRALD_TEST_FRONT=second"));
  Client c(socket_);
  expect_true_statuses(c, printer, 300, quitter);

  for (const std::string& id : {printer, quitter})
    EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}})["ok"], true);
  status = stop_daemon(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Nothing left to keep: the keeper goes too (a generous bound, not a timing).
  for (int i = 0; i < 200 && ::kill(keeper, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(keeper_pid(), 0) << "the keeper stayed with nothing to keep";
  EXPECT_FALSE(std::filesystem::exists(root_ + "/keeper/sock"));
}

TEST_F(CorraldTest, ASecondCorraldOnTheSameRootIsRefusedAndTheFirstServesOn) {
  std::string log = dir_.file("second.log");
  std::string other_socket = dir_.file("other.sock");
  int output = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(output, 0);
  pid_t second = spawn_corrald(other_socket, output);
  ::close(output);
  ASSERT_GT(second, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(second, &status, 0), second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(dir_.read("second.log"), HasSubstr("another corrald already runs on this root"));
  EXPECT_FALSE(std::filesystem::exists(other_socket));
  EXPECT_TRUE(answers_list());
}

TEST_F(CorraldTest, AHangupStopsCorraldCleanly) {
  int status = stop_daemon(SIGHUP);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(socket_)) << "corrald did not shut down cleanly";
}

class CorraldFrontTest : public CorraldTest {
 protected:
  CorraldFrontTest() { start_in_setup_ = false; }
};

// The keeper outlives a stopped front, but not with the front's output: whoever reads the
// front's stdout and stderr sees their end when the front ends.
TEST_F(CorraldFrontTest, TheFrontsOutputEndsWithItThoughTheKeeperStays) {
  int output[2];
  ASSERT_EQ(::pipe2(output, O_CLOEXEC), 0);
  ASSERT_EQ(::fcntl(output[0], F_SETFL, O_NONBLOCK), 0);  // a held pipe fails, never hangs
  daemon_ = spawn_corrald(socket_, output[1]);
  ASSERT_GT(daemon_, 0);
  ::close(output[1]);
  ASSERT_TRUE(wait_until_serving());
  std::string id = make_id("kept");
  {
    Client c(socket_);
    auto run = c.call({{"verb", "run"}, {"id", id}, {"bundle", bundle("kept", {"sleep", "1000"})}});
    ASSERT_EQ(run["ok"], true) << run;
  }
  int status = stop_daemon(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_GT(keeper_pid(), 0) << "the keeper ended with a container running";
  // Read to the end (a generous bound: the keeper would hold it for ever).
  std::string said;
  for (int i = 0; i < 100; ++i) {
    pollfd readable{output[0], POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(output[0], buffer, sizeof buffer);
    if (n <= 0) break;
    said.append(buffer, static_cast<std::size_t>(n));
    i = 0;
  }
  pollfd last{output[0], POLLIN, 0};
  EXPECT_EQ(::poll(&last, 1, 0), 1) << "the front's output did not end: " << said;
  char byte;
  EXPECT_EQ(::read(output[0], &byte, 1), 0) << "the front's output did not end: " << said;
  ::close(output[0]);
  EXPECT_THAT(said, HasSubstr("stopped; 1 containers supervised"));
  start_daemon();  // so that the container is deleted at the end
}

// Without a keeper nothing holds a container's exit after a graceful stop: the next corrald
// sees the exit through a pidfd and says its status is unknown rather than invent one.
class CorraldWithoutKeeperTest : public CorraldTest {
 protected:
  CorraldWithoutKeeperTest() { start_in_setup_ = false; }
};

TEST_F(CorraldWithoutKeeperTest, AStoppedDaemonsContainerExitsWithAnUnknownStatus) {
  start_daemon({"--no-keeper"});
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

  start_daemon({"--no-keeper"});
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
