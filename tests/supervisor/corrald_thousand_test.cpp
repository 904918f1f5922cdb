// 1,000 real containers under one corrald (issue 6's CI check; 10,000 are corral-bench's):
// each in its own namespaces and cgroup, with its logs captured by the keeper; all running at
// once (counted by their distinct mount namespaces), then killed through corrald, every exit
// known, and nothing left once they are deleted.
#include <set>
#include <thread>

#include "corrald_fixture.hpp"

namespace corral::supervisor {
namespace {

using namespace corral::supervisor::testing;
using nlohmann::json;

// The sanitizer build runs every process several times slower: fewer containers there.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kContainers = 200;
#else
constexpr int kContainers = 1000;
#endif
constexpr int kConnections = 8;

std::string link_of(const std::string& path) {
  std::error_code ec;
  return std::filesystem::read_symlink(path, ec).string();
}

TEST_F(CorraldTest, AThousandContainersUnderOneCorrald) {
  // One line of output each, then sleep: the keeper's capture is exercised too.
  std::string b = bundle("many", {"sh", "-c", "echo up; exec sleep 1000"});
  std::vector<std::string> ids;
  for (int i = 0; i < kContainers; ++i) ids.push_back(make_id("many-" + std::to_string(i)));
  // Pipelined on a few connections, as an orchestrator would.
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kConnections; ++c) clients.push_back(std::make_unique<Client>(socket_));
  for (int i = 0; i < kContainers; ++i)
    clients[i % kConnections]->send({{"verb", "run"}, {"id", ids[i]}, {"bundle", b}});
  int ran = 0;
  for (int i = 0; i < kContainers; ++i) {
    json answer = clients[i % kConnections]->next();
    if (answer.value("ok", false)) {
      ++ran;
    } else {
      ADD_FAILURE() << answer;
    }
  }
  ASSERT_EQ(ran, kContainers);

  Client c(socket_);
  auto list = c.call({{"verb", "list"}});
  ASSERT_EQ(list["ok"], true);
  std::set<std::string> namespaces;
  for (const auto& item : list["containers"]) {
    EXPECT_EQ(item["status"], "running") << item;
    namespaces.insert(link_of("/proc/" + std::to_string(item["pid"].get<int>()) + "/ns/mnt"));
  }
  namespaces.erase("");
  EXPECT_EQ(namespaces.size(), static_cast<std::size_t>(kContainers))
      << "every container in a mount namespace of its own";
  for (const std::string& id : {ids.front(), ids.back()})
    EXPECT_TRUE(std::filesystem::exists("/sys/fs/cgroup/memory/corral/" + id)) << id;

  for (const std::string& id : ids)
    EXPECT_EQ(c.call({{"verb", "kill"}, {"id", id}, {"signal", "KILL"}})["ok"], true) << id;
  for (const std::string& id : ids) {
    auto waited = c.call({{"verb", "wait"}, {"id", id}});
    EXPECT_EQ(waited["exit"]["known"], true) << waited;
    EXPECT_EQ(waited["exit"]["shell_status"], 137) << waited;
  }
  // The storm's state.json writes wait for the checkpoint after it (ExitGroupCommit): once the
  // journal is emptied, every state.json holds its exit.
  const std::string journal = root_ + "/exits.journal";
  for (int i = 0; i < 600 && std::filesystem::file_size(journal) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(std::filesystem::file_size(journal), 0u) << "no checkpoint within 30 s";
  int recorded = 0;
  for (const std::string& id : ids) {
    auto state = json::parse(dir_.read("root/containers/" + id + "/state.json"), nullptr, false);
    recorded += state.is_object() && state.contains("exit") && state["exit"]["status"] == 9;
  }
  EXPECT_EQ(recorded, kContainers);
  // The keeper captured each one's line.
  int logged = 0;
  for (const std::string& id : ids)
    logged += dir_.read("root/supervised/" + id + "/container.log").find(" stdout F up") !=
              std::string::npos;
  EXPECT_EQ(logged, kContainers);
  for (const std::string& id : ids)
    EXPECT_EQ(c.call({{"verb", "delete"}, {"id", id}})["ok"], true) << id;
  EXPECT_EQ(c.call({{"verb", "list"}})["containers"].size(), 0u);
  // Nothing left: no state, no supervised directory, no cgroup.
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/containers"));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/supervised"));
  // (Without a cgroupsPath in the config, a container's cgroup is /corral/ID in each hierarchy.)
  for (const char* controller : {"memory", "pids", "cpu", "freezer"})
    for (const std::string& id : ids)
      EXPECT_FALSE(
          std::filesystem::exists(std::string("/sys/fs/cgroup/") + controller + "/corral/" + id))
          << controller << " cgroup of " << id << " left";
}

}  // namespace
}  // namespace corral::supervisor
