// state.json: atomic writes (checked by killing writers, and by the order of the system calls
// themselves), clear errors for missing, truncated and corrupt files, and 10,000 at once.
#include "runtime/state_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/scope.hpp"
#include "reactor/semaphore.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;
namespace rx = reactor;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-state-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(root_); }

  ContainerState sample(const std::string& id) {
    fs::create_directories(root_ + "/" + id);
    ContainerState s;
    s.id = id;
    s.bundle = "/bundles/" + id;
    s.rootfs = s.bundle + "/rootfs";
    s.status = ContainerStatus::Running;
    s.init_pid = 4242;
    s.init_start_time = 987654321;
    s.created_ns = 1'700'000'000'123'456'789;
    s.owner = "root";
    s.cgroup_paths = {{"memory", "/sys/fs/cgroup/memory/corral/" + id}};
    s.namespace_paths = {{"pid", "/proc/4242/ns/pid"}};
    s.external_descriptors = {"/dev/null", "pipe:[1]", "pipe:[2]"};
    s.annotations = {{"org.example", "yes"}};
    s.config = {{"ociVersion", "1.0.2"}, {"process", {{"args", {"sh"}}}}};
    s.exit = ExitRecord{CLD_EXITED, 3, 1'700'000'001'000'000'000, true};
    return s;
  }

  std::string root_;
};

TEST_F(StateStoreTest, SaveThenLoadRoundTrips) {
  StateStore store(root_);
  ContainerState s = sample("abc");
  ASSERT_TRUE(store.save(s));
  auto loaded = store.load("abc");
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_EQ(loaded->to_json(), s.to_json());
  struct stat st {};
  ASSERT_EQ(::stat(store.state_path("abc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Nothing but state.json is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ + "/abc"), {}), 1);
}

TEST_F(StateStoreTest, MissingStateIsContainerNotExists) {
  StateStore store(root_);
  auto loaded = store.load("nope");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::ContainerNotExists);
  EXPECT_NE(loaded.error().message().find("nope"), std::string::npos);
}

TEST_F(StateStoreTest, TruncatedAndGarbageStateAreSystemErrorsNamingTheFile) {
  StateStore store(root_);
  ASSERT_TRUE(store.save(sample("t")));
  std::string text;
  {
    std::ifstream in(store.state_path("t"));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::string bad : {text.substr(0, text.size() / 2), std::string("\x01garbage\xff"),
                          std::string(""), std::string("[1,2,3]")}) {
    std::ofstream(store.state_path("t"), std::ios::trunc) << bad;
    auto loaded = store.load("t");
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code(), ErrorCode::SystemError);
    EXPECT_NE(loaded.error().message().find(store.state_path("t")), std::string::npos)
        << loaded.error().message();
  }
}

TEST_F(StateStoreTest, WrongFieldTypeNamesTheField) {
  StateStore store(root_);
  auto j = sample("w").to_json();
  j["init_process_pid"] = "not a number";
  std::ofstream(store.state_path("w")) << j.dump();
  auto loaded = store.load("w");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("init_process_pid"), std::string::npos)
      << loaded.error().message();
}

// The order of the system calls is what makes the write durable and atomic; a kill cannot show
// a missing fsync, so check the sequence itself through the reactor's submit observer.
TEST_F(StateStoreTest, WriteFsyncRenameThenDirectoryFsync) {
  StateStore store(root_);
  ContainerState s = sample("order");
  rx::Reactor reactor;
  std::vector<std::string> calls;
  reactor.set_submit_observer(
      [](void* ctx, const rx::Operation& op) {
        static_cast<std::vector<std::string>*>(ctx)->push_back(rx::op_name(op.kind));
      },
      &calls);
  auto r = reactor.block_on(store.save_async(s));
  ASSERT_TRUE(r) << r.error().what();
  std::vector<std::string> expected = {"openat",   "write",  "fsync", "close",
                                       "renameat", "openat", "fsync", "close"};
  EXPECT_EQ(calls, expected);
}

// Writers SIGKILLed at random moments never leave a torn state.json: what is there is always
// one complete version.
TEST_F(StateStoreTest, KilledWritersNeverLeaveATornFile) {
  StateStore store(root_);
  ContainerState s = sample("kill");
  ASSERT_TRUE(store.save(s));
  std::mt19937 rng(12345);
  for (int round = 0; round < 40; ++round) {
    pid_t writer = ::fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) {
      ContainerState mine = s;
      for (int i = 0;; ++i) {
        mine.annotations["payload"] = std::string(1000 + (i % 50) * 997, 'a' + i % 26);
        mine.init_pid = i;
        (void)store.save(mine);
      }
    }
    ::usleep(std::uniform_int_distribution<int>(100, 20000)(rng));
    ::kill(writer, SIGKILL);
    ::waitpid(writer, nullptr, 0);
    auto loaded = store.load("kill");
    ASSERT_TRUE(loaded) << "round " << round << ": " << loaded.error().what();
    const std::string& payload = loaded->annotations["payload"];
    if (!payload.empty()) {
      EXPECT_EQ(payload.size(), 1000u + (loaded->init_pid % 50) * 997);
      EXPECT_EQ(payload.find_first_not_of(payload[0]), std::string::npos);
    }
  }
}

TEST_F(StateStoreTest, TenThousandConcurrentWritesThroughTheReactor) {
  constexpr int kContainers = 10'000;
  StateStore store(root_);
  std::vector<ContainerState> states;
  states.reserve(kContainers);
  for (int i = 0; i < kContainers; ++i) states.push_back(sample("c" + std::to_string(i)));
  rx::Reactor reactor;
  int failures = 0;
  reactor.block_on([&]() -> rx::Task<void> {
    rx::AsyncSemaphore descriptors(512);  // each write holds up to two fds at a time
    rx::TaskScope scope;
    for (auto& s : states) {
      scope.spawn([](const StateStore& st, const ContainerState& cs, rx::AsyncSemaphore& sem,
                     int& failed) -> rx::Task<void> {
        auto permit = co_await sem.acquire();
        auto r = co_await st.save_async(cs);
        if (!r) ++failed;
      }(store, s, descriptors, failures));
    }
    co_await scope.join();
  }());
  EXPECT_EQ(failures, 0);
  int loaded_ok = 0;
  reactor.block_on([&]() -> rx::Task<void> {
    for (int i = 0; i < kContainers; i += 97) {
      auto l = co_await store.load_async("c" + std::to_string(i));
      if (l && l->id == "c" + std::to_string(i)) ++loaded_ok;
    }
  }());
  EXPECT_EQ(loaded_ok, (kContainers + 96) / 97);
}

}  // namespace
}  // namespace corral
