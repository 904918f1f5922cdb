// The init's protected handle: executable through execveat, never writable, however reopened.
#include "runtime/protected_binary.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace corral {
namespace {

namespace fs = std::filesystem;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class ProtectedBinaryTest : public ::testing::TestWithParam<BinaryProtection> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/corral-protected-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    copy_ = dir_ + "/corral-init";
    fs::copy_file(std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init", copy_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, copy_;
};

TEST_P(ProtectedBinaryTest, RefusesWritesThroughProcFdAndStillExecutes) {
  std::string before = file_bytes(copy_);
  auto binary = protect_binary(copy_, GetParam());
  ASSERT_TRUE(binary) << binary.error().what();
  EXPECT_EQ(binary->protection, GetParam());
  EXPECT_EQ(::fcntl(binary->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

  // What a container would do with /proc/PID/exe: reopen the file for writing.
  std::string reopen = "/proc/self/fd/" + std::to_string(binary->fd);
  for (int flags : {O_WRONLY, O_RDWR, O_WRONLY | O_TRUNC, O_WRONLY | O_APPEND}) {
    int fd = ::open(reopen.c_str(), flags | O_CLOEXEC);
    if (fd >= 0) {
      // A sealed memfd may open, but no byte may land.
      EXPECT_EQ(GetParam(), BinaryProtection::SealedMemfd) << "flags " << flags;
      EXPECT_LT(::write(fd, "x", 1), 0) << "flags " << flags;
      ::close(fd);
    } else if (GetParam() == BinaryProtection::ReadOnlyMount) {
      EXPECT_EQ(errno, EROFS) << "flags " << flags;
    }
  }
  EXPECT_TRUE(file_bytes(copy_) == before);

  // It runs: the init without its environment says so and exits 1.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 2);
    char* argv[] = {const_cast<char*>("corral-init"), nullptr};
    char* envp[] = {nullptr};
    ::syscall(SYS_execveat, binary->fd, "", argv, envp, AT_EMPTY_PATH);
    ::_exit(99);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  ::close(binary->fd);
}

INSTANTIATE_TEST_SUITE_P(Both, ProtectedBinaryTest,
                         ::testing::Values(BinaryProtection::ReadOnlyMount,
                                           BinaryProtection::SealedMemfd));

TEST(ProtectedInitBinary, MadeOncePerProcessAsAReadOnlyMount) {
  std::string path = std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
  auto first = protected_init_binary(path);
  ASSERT_TRUE(first) << first.error().what();
  auto second = protected_init_binary(path);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->fd, second->fd);
  // This kernel (>= 5.12) has the new mount API: no memfd copy is made.
  EXPECT_EQ(first->protection, BinaryProtection::ReadOnlyMount);
  EXPECT_FALSE(protected_init_binary("/no/such/init"));
}

}  // namespace
}  // namespace corral
