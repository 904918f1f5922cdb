#include "runtime/factory.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "init/busybox_rootfs.hpp"
#include "runtime/proc_stat.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;

class FactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/corral-factory-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    root_ = dir_ + "/root";
  }
  void TearDown() override { fs::remove_all(dir_); }
  Factory factory() {
    auto f = Factory::create(root_);
    EXPECT_TRUE(f) << (f ? "" : f.error().what());
    return std::move(*f);
  }
  std::string dir_, root_;
  testing::BusyboxRootfs rootfs_;
};

TEST(ProcStat, ParsesAfterTheLastParenthesis) {
  std::string text = "42 (a) b) (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21\n";
  auto stat = parse_proc_stat(text);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_time, 987654u);
  EXPECT_FALSE(parse_proc_stat("42 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat("garbage"));
  auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self);
  EXPECT_TRUE(process_matches(::getpid(), self->start_time));
  EXPECT_FALSE(process_matches(::getpid(), self->start_time + 1));
}

TEST_F(FactoryTest, RootIsMadeWithMode0700) {
  auto f = factory();
  struct stat st {};
  ASSERT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(f.root(), root_);
}

TEST_F(FactoryTest, UnsupportedOptionsAreRefused) {
  FactoryOptions systemd;
  systemd.cgroup_driver = "systemd";
  auto a = Factory::create(root_, systemd);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(a.error().message().find("systemd"), std::string::npos);
  FactoryOptions criu;
  criu.criu_path = "/usr/sbin/criu";
  auto b = Factory::create(root_, criu);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::Unsupported);
  auto c = Factory::create("");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::ConfigInvalid);
  FactoryOptions missing_init;
  missing_init.init_path = dir_ + "/no-such-init";
  EXPECT_FALSE(Factory::create(root_, missing_init));
}

TEST_F(FactoryTest, IdTable) {
  auto f = factory();
  std::string hex64(64, 'a');
  for (std::string good :
       {std::string("a"), hex64, std::string("a.b+c_d-e"), std::string(255, 'x')}) {
    auto c = f.create_container(good, rootfs_.config({"true"}));
    EXPECT_TRUE(c) << good << ": " << (c ? "" : c.error().what());
    EXPECT_TRUE(fs::is_directory(root_ + "/" + good)) << good;
  }
  std::string nul("a\0b", 3);
  for (std::string bad : {std::string(""), std::string("."), std::string(".."), std::string("../x"),
                          std::string("a/b"), nul, std::string(256, 'x'), std::string(1025, 'x'),
                          std::string("a b"), std::string("a,b")}) {
    auto c = f.create_container(bad, rootfs_.config({"true"}));
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code(), ErrorCode::InvalidIdFormat) << bad;
    auto l = f.load(bad);
    ASSERT_FALSE(l) << bad;
    EXPECT_EQ(l.error().code(), ErrorCode::InvalidIdFormat) << bad;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/x"));  // "../x" never reached outside the root
}

TEST_F(FactoryTest, InvalidConfigIsConfigInvalid) {
  auto f = factory();
  Config config = rootfs_.config({"true"});
  config.root.path = dir_ + "/no-such-rootfs";
  auto c = f.create_container("bad-config", config);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_FALSE(fs::exists(root_ + "/bad-config"));
}

TEST_F(FactoryTest, ExistingIdIsIdInUse) {
  auto f = factory();
  ASSERT_TRUE(f.create_container("dup", rootfs_.config({"true"})));
  auto again = f.create_container("dup", rootfs_.config({"true"}));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::IdInUse);
  EXPECT_EQ(again.error().message(), "container dup already exists");
}

TEST_F(FactoryTest, ConcurrentCreatesFromTwoProcessesOneWins) {
  auto f = factory();
  Config config = rootfs_.config({"true"});
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t children[2];
  for (pid_t& child : children) {
    child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      char byte;
      if (::read(go[0], &byte, 1) != 1) ::_exit(10);
      auto c = f.create_container("race", config);
      if (c) ::_exit(0);
      ::_exit(c.error().code() == ErrorCode::IdInUse ? 1 : 2);
    }
  }
  ::close(go[0]);
  ASSERT_EQ(::write(go[1], "gg", 2), 2);  // release both at once
  ::close(go[1]);
  int wins = 0, in_use = 0;
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++wins;
    if (WEXITSTATUS(status) == 1) ++in_use;
  }
  EXPECT_EQ(wins, 1);
  EXPECT_EQ(in_use, 1);
}

TEST_F(FactoryTest, LoadOfUnknownIdIsContainerNotExists) {
  auto f = factory();
  auto c = f.load("nobody");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::ContainerNotExists);
}

TEST_F(FactoryTest, CorruptStateIsSystemErrorNamingTheFile) {
  auto f = factory();
  ContainerState state;
  state.id = "corrupt";
  state.status = ContainerStatus::Running;
  fs::create_directories(root_ + "/corrupt");
  std::string text = state.to_json().dump();
  std::string path = root_ + "/corrupt/state.json";
  for (std::string content : {text.substr(0, text.size() / 2), std::string("\x01garbage{{")}) {
    std::ofstream(path, std::ios::trunc) << content;
    auto c = f.load("corrupt");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), ErrorCode::SystemError);
    EXPECT_NE(c.error().what().find(path), std::string::npos) << c.error().what();
  }
}

TEST_F(FactoryTest, ReusedPidIsStopped) {
  auto f = factory();
  StateStore store(root_);
  ContainerState state;
  state.id = "reused";
  state.status = ContainerStatus::Running;
  state.init_pid = ::getpid();  // alive, but not the process that was recorded
  auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self);
  state.init_start_time = self->start_time + 12345;
  fs::create_directories(store.container_dir("reused"));
  ASSERT_TRUE(store.save(state));
  auto c = f.load("reused");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ((*c)->status(), ContainerStatus::Stopped);
  EXPECT_FALSE((*c)->signal(0));  // never a signal to the unrelated process

  state.init_start_time = self->start_time;  // the real one: alive
  ASSERT_TRUE(store.save(state));
  auto alive = f.load("reused");
  ASSERT_TRUE(alive);
  EXPECT_EQ((*alive)->status(), ContainerStatus::Running);
}

}  // namespace
}  // namespace corral
