// Containers in a user namespace: container root mapped to host uid/gid 100000 (65536 ids).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "real_container_fixture.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

constexpr std::uint32_t kHostBase = 100000;
constexpr std::uint32_t kRange = 65536;

class UserNamespaceTest : public testing::RealContainerTest {
 protected:
  void SetUp() override {
    RealContainerTest::SetUp();
    // The mapped root must reach and own its rootfs: the work dir becomes traversable (the
    // state dir inside it stays 0700) and the rootfs belongs to host uid/gid 100000.
    ::chmod(rootfs_.work_dir().c_str(), 0711);
    ::lchown(rootfs_.rootfs().c_str(), kHostBase, kHostBase);
    for (const auto& entry : fs::recursive_directory_iterator(rootfs_.rootfs()))
      ::lchown(entry.path().c_str(), kHostBase, kHostBase);
    out_path_ = rootfs_.work_dir() + "/out";
  }

  Config mapped_config(std::vector<std::string> args) const {
    Config config = rootfs_.config(std::move(args));
    config.linux_spec.namespaces.push_back({NamespaceType::User, ""});
    config.linux_spec.uid_mappings = {{0, kHostBase, kRange}};
    config.linux_spec.gid_mappings = {{0, kHostBase, kRange}};
    return config;
  }

  std::string out_path_;
};

// "Uid:\t100000\t100000\t100000\t100000" -> the four ids.
std::vector<long> ids_of(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::string line;
  std::vector<long> ids;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    long id;
    while (fields >> id) ids.push_back(id);
  }
  return ids;
}

std::vector<long> numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<long> out;
  long n;
  while (in >> n) out.push_back(n);
  return out;
}

TEST_F(UserNamespaceTest, RootInsideIsAMappedHostUser) {
  // The test's config has no network namespace of its own: sysfs cannot be mounted from the user
  // namespace then, and the host's /sys is bound instead.
  Config config = mapped_config(
      {"sh", "-c",
       "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
       "for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done; "
       "echo x > /dev/null && echo writable; test -d /sys/kernel && echo sys; exit 3"});
  auto c = factory_->create_container("mapped", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto ran = (*c)->run_blocking({-1, out, out});
  ::close(out);
  ASSERT_TRUE(ran) << ran.error().what();
  auto exit = (*c)->wait_blocking();
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_EQ(shell_status(*exit), 3) << read_file(out_path_);
  EXPECT_TRUE((*c)->destroy_blocking());

  std::istringstream lines(read_file(out_path_));
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 12u) << read_file(out_path_);
  EXPECT_EQ(got[0], "0");
  EXPECT_EQ(got[1], "0");
  EXPECT_EQ(numbers(got[2]), (std::vector<long>{0, kHostBase, kRange}));
  EXPECT_EQ(numbers(got[3]), (std::vector<long>{0, kHostBase, kRange}));
  EXPECT_EQ(std::vector<std::string>(got.begin() + 4, got.end()),
            (std::vector<std::string>{"null", "zero", "full", "random", "urandom", "tty",
                                      "writable", "sys"}));
}

TEST_F(UserNamespaceTest, HostSeesTheMappedIds) {
  auto c = factory_->create_container("host-view", mapped_config({"sleep", "1000"}));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->run_blocking());
  std::string status = read_file("/proc/" + std::to_string((*c)->init_pid()) + "/status");
  EXPECT_EQ(ids_of(status, "Uid"), std::vector<long>(4, kHostBase)) << status;
  EXPECT_EQ(ids_of(status, "Gid"), std::vector<long>(4, kHostBase)) << status;
  // The init's user namespace is not ours.
  EXPECT_NE(fs::read_symlink("/proc/self/ns/user"),
            fs::read_symlink("/proc/" + std::to_string((*c)->init_pid()) + "/ns/user"));
  ASSERT_TRUE((*c)->signal(SIGKILL));
  auto exit = (*c)->wait_blocking();
  ASSERT_TRUE(exit);
  EXPECT_EQ(shell_status(*exit), 137);
  EXPECT_TRUE((*c)->destroy_blocking());
  EXPECT_EQ(testing::count_dir_entries(root_), 0);
  EXPECT_EQ(leftover_cgroups(), 0);
}

TEST_F(UserNamespaceTest, ExecFailuresKeepTheirStatuses) {
  for (auto [args, status] : {std::pair<std::vector<std::string>, int>{{"true"}, 0},
                              {{"asdlfkjasldkfj"}, 127},
                              {{"/etc/passwd"}, 126}}) {
    auto c = factory_->create_container("status-" + std::to_string(status), mapped_config(args));
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_TRUE((*c)->run_blocking());
    auto exit = (*c)->wait_blocking();
    ASSERT_TRUE(exit);
    EXPECT_EQ(shell_status(*exit), status) << args[0];
    EXPECT_TRUE((*c)->destroy_blocking());
  }
}

TEST_F(UserNamespaceTest, JoinsAUserNamespaceByPathAndOwnsItsNewNamespacesThere) {
  auto owner = factory_->create_container("owner", mapped_config({"sleep", "1000"}));
  ASSERT_TRUE(owner) << owner.error().what();
  ASSERT_TRUE((*owner)->run_blocking());
  const std::string user_ns = "/proc/" + std::to_string((*owner)->init_pid()) + "/ns/user";

  // New pid/mount/uts/ipc namespaces, made inside the joined user namespace (mounting proc and
  // setting the hostname need its privileges over them).
  Config config =
      rootfs_.config({"sh", "-c", "id -u; readlink /proc/self/ns/user; hostname; echo $$; exit 6"});
  config.linux_spec.namespaces.push_back({NamespaceType::User, user_ns});
  auto joiner = factory_->create_container("joiner", std::move(config));
  ASSERT_TRUE(joiner) << joiner.error().what();
  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto ran = (*joiner)->run_blocking({-1, out, out});
  ::close(out);
  ASSERT_TRUE(ran) << ran.error().what();
  std::string status = read_file("/proc/" + std::to_string((*joiner)->init_pid()) + "/status");
  // Read before the wait: until it is reaped, even an exited init keeps its /proc entry.
  EXPECT_EQ(ids_of(status, "Uid"), std::vector<long>(4, kHostBase)) << status;
  auto exit = (*joiner)->wait_blocking();
  ASSERT_TRUE(exit);
  EXPECT_EQ(shell_status(*exit), 6) << read_file(out_path_);
  EXPECT_EQ(read_file(out_path_),
            "0\n" + fs::read_symlink(user_ns).string() + "\ncorral-test\n1\n");
  EXPECT_TRUE((*joiner)->destroy_blocking());

  ASSERT_TRUE((*owner)->signal(SIGKILL));
  EXPECT_TRUE((*owner)->wait_blocking());
  EXPECT_TRUE((*owner)->destroy_blocking());
  EXPECT_EQ(testing::count_dir_entries(root_), 0);
  EXPECT_EQ(testing::count_own_children(), 0);
}

TEST_F(UserNamespaceTest, RootMustBeMapped) {
  Config config = mapped_config({"true"});
  config.linux_spec.uid_mappings = {{1, kHostBase, 10}};
  auto c = factory_->create_container("unmapped-root", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  auto ran = (*c)->run_blocking();
  ASSERT_FALSE(ran);
  EXPECT_EQ(ran.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_NE(ran.error().message().find("uid 0"), std::string::npos) << ran.error().what();
  EXPECT_EQ(testing::count_dir_entries(root_), 0);
}

}  // namespace
}  // namespace corral
