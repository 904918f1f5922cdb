// corrald killed with SIGKILL (its keeper survives and starts it again): no log line lost, no
// signal sent to a container, true exit statuses for containers that ended meanwhile, and in a
// storm of runs and exits cut by kills at random moments, every container accounted for.
#include <random>
#include <set>

#include "corrald_fixture.hpp"

namespace corral::supervisor {
namespace {

using namespace corral::supervisor::testing;
using nlohmann::json;

class CorraldCrashTest : public CorraldTest {
 protected:
  CorraldCrashTest() { start_in_setup_ = false; }

  // SIGKILL to corrald proper; returns once a new corrald (another pid) answers.
  void crash_and_await_restart() {
    pid_t old = corrald_pid();
    ASSERT_GT(old, 0) << "no corrald under the keeper";
    ASSERT_EQ(::kill(old, SIGKILL), 0);
    for (int i = 0; i < 1200; ++i) {
      pid_t now = corrald_pid();
      if (now > 0 && now != old && wait_until_serving()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL() << "corrald was not started again; log:\n" << dir_.read("daemon.log");
  }
};

TEST_F(CorraldCrashTest, AFiveSecondOutageLosesNoLineAndKeepsTrueStatuses) {
  start_daemon({"--respawn-delay", "5000"});
  std::string printer = make_id("printer"), quitter = make_id("quitter");
  // A line every 10 ms for longer than the outage; an exit during it.
  std::string p = bundle("printer", {"sh", "-c",
                                     "i=0; while [ $i -lt 900 ]; do echo $i; i=$((i+1)); "
                                     "sleep 0.01; done"});
  std::string q = bundle("quitter", {"sh", "-c", "sleep 1; exit 42"});
  {
    Client c(socket_);
    ASSERT_EQ(c.call({{"verb", "run"}, {"id", printer}, {"bundle", p}})["ok"], true);
    ASSERT_EQ(c.call({{"verb", "run"}, {"id", quitter}, {"bundle", q}})["ok"], true);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  crash_and_await_restart();
  if (HasFatalFailure()) return;
  EXPECT_THAT(dir_.read("daemon.log"), ::testing::HasSubstr("starting it again in 5000 ms"));

  Client c(socket_);
  // Status 0, not 141 (SIGPIPE): the printer always had a reader.
  expect_true_statuses(c, printer, 900, quitter);
  // Both statuses are in state.json too, not only in the answers.
  for (const auto& [id, status] : {std::pair{quitter, 42}, std::pair{printer, 0}}) {
    auto state = json::parse(dir_.read("root/containers/" + id + "/state.json"));
    EXPECT_EQ(state["exit"]["status"], status) << state;
  }
}

TEST_F(CorraldCrashTest, KilledAtRandomMomentsEveryContainerIsAccountedFor) {
  start_daemon({"--respawn-delay", "100"});
  std::mt19937 random(static_cast<unsigned>(::getpid()));
  struct Planned {
    std::string id;
    int status;  // what its exit must say; -1: long-lived, killed at the end (137)
    bool acknowledged = false;
  };
  std::vector<Planned> ledger;
  const int kRounds = 4, kPerRound = 10, kAnsweredFirst = 3;
  for (int round = 0; round < kRounds; ++round) {
    Client c(socket_);
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < kPerRound; ++i) {
      Planned plan;
      plan.id = make_id("r" + std::to_string(round) + "-" + std::to_string(i));
      std::vector<std::string> args;
      if (i % 4 == 3) {
        plan.status = -1;
        args = {"sleep", "1000"};
      } else {
        plan.status = 1 + (round * kPerRound + i) % 50;
        args = {"sh", "-c",
                "sleep 0." + std::to_string(i % 5) + "; exit " + std::to_string(plan.status)};
      }
      std::string b = bundle(plan.id, args);
      json request{{"verb", "run"}, {"id", plan.id}, {"bundle", b}, {"tag", ledger.size()}};
      ledger.push_back(plan);
      // The first few are answered before the cut, so their exits straddle it; the rest are
      // in flight when it comes.
      if (i < kAnsweredFirst) {
        json answer = c.call(request);
        ASSERT_EQ(answer["ok"], true) << answer;
        ledger.back().acknowledged = true;
      } else {
        c.send(request);
      }
    }
    std::thread reader([&] {
      for (;;) {
        json answer = c.next();
        if (answer.is_null()) break;
        if (answer.contains("tag") && answer.value("ok", false))
          ledger[answer["tag"].get<std::size_t>()].acknowledged = true;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 500));
    try {
      crash_and_await_restart();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "crash and restart: " << e.what();  // the reader is joined first
    }
    ::shutdown(c.fd(), SHUT_RDWR);
    reader.join();
    if (HasFatalFailure()) return;
  }

  Client c(socket_);
  auto list = c.call({{"verb", "list"}});
  ASSERT_EQ(list["ok"], true) << list;
  std::set<std::string> listed;
  std::set<pid_t> pids;
  for (const auto& item : list["containers"]) {
    EXPECT_TRUE(listed.insert(item["id"].get<std::string>()).second) << "duplicated: " << item;
    pid_t pid = item["pid"];
    if (pid > 0) {
      EXPECT_TRUE(pids.insert(pid).second) << "two containers, one pid: " << item;
    }
  }
  int checked = 0;
  for (const Planned& plan : ledger) {
    if (!listed.count(plan.id)) {
      // Only a run that was never answered may have left nothing.
      EXPECT_FALSE(plan.acknowledged) << plan.id << " was run, then lost";
      continue;
    }
    auto state = c.call({{"verb", "state"}, {"id", plan.id}});
    ASSERT_EQ(state["ok"], true) << state;
    std::string status = state["container"]["status"];
    // A run cut by the crash has no promised outcome (created, or its init died with its
    // creator, or it ran): it must only be there and be deletable. An answered one must end
    // with its own, known status.
    if (!plan.acknowledged) continue;
    if (plan.status < 0 && status == "running") {
      EXPECT_EQ(c.call({{"verb", "kill"}, {"id", plan.id}, {"signal", "KILL"}})["ok"], true);
    }
    auto waited = c.call({{"verb", "wait"}, {"id", plan.id}});
    ASSERT_EQ(waited["ok"], true) << waited;
    auto why = [&] {
      return plan.id + (plan.acknowledged ? " (run answered) " : " (run not answered) ") +
             waited.dump() + "\nlog:\n" +
             dir_.read("root/supervised/" + plan.id + "/container.log");
    };
    EXPECT_EQ(waited["exit"]["known"], true) << why();
    EXPECT_EQ(waited["exit"]["shell_status"], plan.status < 0 ? 137 : plan.status) << why();
    ++checked;
  }
  EXPECT_GE(checked, kRounds * kAnsweredFirst);
  for (const std::string& id : listed)
    EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}, {"force", true}})["ok"], true) << id;
}

}  // namespace
}  // namespace corral::supervisor
