// The Supervisor as a library, in this process, on this thread's reactor: what an embedding
// orchestrator does. Real busybox containers.
#include "runtime/supervisor/supervisor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/temp_dir.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "runtime/spec/default_spec.hpp"
#include "runtime/state_store.hpp"

namespace corral::supervisor {
namespace {

using ::testing::ElementsAre;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "makes real containers: run as root";
    rootfs_ = dir_.file("rootfs");
    std::filesystem::create_directories(rootfs_ + "/bin");
    std::filesystem::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* tool : {"sh", "echo", "sleep", "printf", "dd"})
      std::filesystem::create_symlink("busybox", rootfs_ + "/bin/" + tool);
    options_.root = dir_.file("root");
    options_.factory.init_path = CORRAL_BINARY_DIR "/src/init/corral-init";
    options_.max_log_line = 100;
    options_.backoff.initial = std::chrono::milliseconds(10);
    reopen();
  }

  void reopen() {
    sup_.reset();
    auto opened = Supervisor::open(options_);
    ASSERT_TRUE(opened) << opened.error().what();
    sup_ = std::move(*opened);
    sup_->subscribe([this](const Event& e) { events_.push_back(std::string(to_string(e.type))); });
  }

  void TearDown() override {
    if (!sup_) return;
    reactor_.block_on(cleanup());
  }

  reactor::Task<void> cleanup() {
    for (const auto& info : sup_->list()) {
      auto removed = co_await sup_->remove(info.id, true);
      EXPECT_TRUE(removed) << removed.error().what();
    }
    co_await sup_->shutdown(false);
  }

  CreateRequest request(const std::string& name, std::vector<std::string> args,
                        const std::string& restart = "no", std::int64_t memory_limit = 0) {
    std::string bundle = dir_.file("bundle-" + name);
    std::filesystem::create_directories(bundle);
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = std::move(args);
    spec["process"]["terminal"] = false;
    spec["root"]["path"] = rootfs_;
    if (memory_limit > 0) spec["linux"]["resources"]["memory"]["limit"] = memory_limit;
    std::ofstream(bundle + "/config.json") << spec.dump();
    return CreateRequest{"sup-" + name + "-" + std::to_string(::getpid()), bundle,
                         *RestartPolicy::parse(restart)};
  }

  std::vector<std::string> log_lines(const std::string& id) {
    auto log = sup_->log(id);
    EXPECT_TRUE(log);
    std::ifstream in((*log)->path());
    std::vector<std::string> lines;
    // Strip the timestamp: "<ts> stdout F text" -> "stdout F text".
    for (std::string line; std::getline(in, line);)
      lines.push_back(line.substr(line.find(' ') + 1));
    return lines;
  }

  cli::testing::TempDir dir_;
  SupervisorOptions options_;
  std::string rootfs_;
  reactor::Reactor reactor_;
  std::unique_ptr<Supervisor> sup_;
  std::vector<std::string> events_;
};

TEST_F(SupervisorTest, RunWaitAndBothStreamsWithPartialLines) {
  CreateRequest req =
      request("run", {"sh", "-c", "printf '%0250d\\n' 0; echo err >&2; printf tail; exit 3"});
  auto exit = reactor_.block_on([&]() -> reactor::Task<Expected<ExitRecord>> {
    auto ran = co_await sup_->run(req);
    EXPECT_TRUE(ran) << ran.error().what();
    co_return co_await sup_->wait(req.id);
  }());
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_TRUE(exit->known);
  EXPECT_EQ(exit->status, 3);
  EXPECT_EQ(events_, (std::vector<std::string>{"created", "started", "exited"}));
  // The pumps may still be draining when wait answers: let the loop run until end of file.
  auto state = sup_->state(req.id);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->status, "stopped");
  reactor_.block_on([&]() -> reactor::Task<void> {
    for (int i = 0; i < 200 && log_lines(req.id).size() < 5; ++i)
      (void)co_await reactor::sleep_for(std::chrono::milliseconds(10));
  }());
  auto lines = log_lines(req.id);
  std::vector<std::string> out, err;
  for (const auto& l : lines) (l.rfind("stdout", 0) == 0 ? out : err).push_back(l);
  EXPECT_THAT(out,
              ElementsAre("stdout P " + std::string(100, '0'), "stdout P " + std::string(100, '0'),
                          "stdout F " + std::string(50, '0'), "stdout F tail"));
  EXPECT_THAT(err, ElementsAre("stderr F err"));
}

TEST_F(SupervisorTest, AlwaysRestartsUntilKilledAndRemembersTheStop) {
  CreateRequest req = request("always", {"sh", "-c", "sleep 0.2"}, "always");
  auto result = reactor_.block_on([&]() -> reactor::Task<Expected<ExitRecord>> {
    auto ran = co_await sup_->run(req);
    EXPECT_TRUE(ran) << ran.error().what();
    // Until it has restarted at least once.
    while (std::find(events_.begin(), events_.end(), "restarted") == events_.end())
      (void)co_await reactor::sleep_for(std::chrono::milliseconds(20));
    auto killed = sup_->kill(req.id, SIGKILL, true);
    EXPECT_TRUE(killed) << killed.error().what();
    co_return co_await sup_->wait(req.id);
  }());
  ASSERT_TRUE(result) << result.error().what();
  auto state = sup_->state(req.id);
  EXPECT_EQ(state->status, "stopped");
  EXPECT_TRUE(state->stopped_by_user);
  EXPECT_GE(state->restart_count, 1u);
  EXPECT_THAT(events_, ::testing::Contains("restarted"));
}

TEST_F(SupervisorTest, OomKillIsReportedBeforeTheExit) {
  // dd's 64 MiB buffer cannot fit under a 16 MiB limit (this host has no swap).
  CreateRequest req = request("oom", {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"},
                              "no", 16 * 1024 * 1024);
  auto exit = reactor_.block_on([&]() -> reactor::Task<Expected<ExitRecord>> {
    auto ran = co_await sup_->run(req);
    EXPECT_TRUE(ran) << ran.error().what();
    co_return co_await sup_->wait(req.id);
  }());
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_EQ(exit->status, SIGKILL);
  EXPECT_EQ(events_, (std::vector<std::string>{"created", "started", "oom", "exited"}));
  auto stats = sup_->stats(req.id);
  ASSERT_TRUE(stats);
  EXPECT_EQ((*stats)["oom_kill_count"], 1);
}

// Exits that arrive together are journaled and their state.json writes wait for the storm to
// end; a shutdown that comes first writes them (here no checkpoint comes on its own).
TEST_F(SupervisorTest, AStormsExitsAreInStateJsonAfterShutdownAndTheJournalIsEmpty) {
  options_.exit_checkpoint_quiet = std::chrono::hours(1);
  reopen();
  constexpr int kContainers = 16;
  std::vector<std::string> ids;
  reactor_.block_on([&]() -> reactor::Task<void> {
    for (int i = 0; i < kContainers; ++i) {
      CreateRequest req = request("storm-" + std::to_string(i), {"sleep", "1000"});
      auto ran = co_await sup_->run(req);
      EXPECT_TRUE(ran) << ran.error().what();
      if (ran) ids.push_back(req.id);
    }
    for (const auto& id : ids) EXPECT_TRUE(sup_->kill(id, SIGKILL));
    for (const auto& id : ids) {
      auto exit = co_await sup_->wait(id);
      EXPECT_TRUE(exit && exit->known && shell_status(*exit) == 137) << id;
    }
    co_await sup_->shutdown(false);
  }());
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kContainers));
  StateStore store(options_.root + "/containers");
  for (const auto& id : ids) {
    auto state = store.load(id);
    ASSERT_TRUE(state) << state.error().what();
    ASSERT_TRUE(state->exit) << id << ": no exit in state.json";
    EXPECT_EQ(shell_status(*state->exit), 137) << id;
  }
  EXPECT_EQ(std::filesystem::file_size(options_.root + "/exits.journal"), 0u);
  // Loaded again, to be removed by TearDown.
  reopen();
  auto recovered = reactor_.block_on(sup_->recover());
  ASSERT_TRUE(recovered) << recovered.error().what();
  EXPECT_EQ(*recovered, static_cast<std::size_t>(kContainers));
}

TEST_F(SupervisorTest, ErrorsNameTheContainer) {
  auto result = reactor_.block_on([&]() -> reactor::Task<Expected<ContainerInfo>> {
    co_return co_await sup_->start("nope");
  }());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::ContainerNotExists);
  EXPECT_THAT(result.error().what(), ::testing::HasSubstr("nope"));
  CreateRequest bad = request("bad", {"sh"});
  bad.bundle = dir_.file("missing-bundle");
  auto created = reactor_.block_on(
      [&]() -> reactor::Task<Expected<ContainerInfo>> { co_return co_await sup_->create(bad); }());
  ASSERT_FALSE(created);
  EXPECT_THAT(created.error().what(), ::testing::HasSubstr(bad.id));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("root/supervised/" + bad.id)));
  EXPECT_EQ(sup_->size(), 0u);
}

}  // namespace
}  // namespace corral::supervisor
