// Terminals (process.terminal with --console-socket, or relayed by a foreground run) and
// --preserve-fds, end to end against the built binary.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <sstream>

#include "cli/container_cli_fixture.hpp"
#include "runtime/fd_passing.hpp"

namespace corral::cli {
namespace {

using testing::ContainerCliTest;
using testing::CorralOptions;
using testing::CorralProcess;
using ::testing::HasSubstr;
using testing::Outcome;

class TerminalTest : public ContainerCliTest {
 protected:
  std::string terminal_bundle(const std::vector<std::string>& args) {
    return bundle(args, [](nlohmann::json& spec) { spec["process"]["terminal"] = true; });
  }
};

// A listening AF_UNIX socket standing in for an engine's console socket.
class ConsoleSocketServer {
 public:
  explicit ConsoleSocketServer(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
        << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, 4), 0);
  }
  ~ConsoleSocketServer() { ::close(fd_); }

  // The pty master the runtime sends; -1 if none comes (a bounded wait for the connection).
  int receive_master() {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, 60'000) != 1) return -1;
    int connection = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return -1;
    auto message = receive_with_fds(connection, 4096, "console socket");
    ::close(connection);
    if (!message || message->fds.size() != 1) return -1;
    pty_name_ = message->data.c_str();  // the name, without any trailing NUL
    return message->fds[0].release();
  }
  const std::string& pty_name() const { return pty_name_; }

 private:
  std::string path_;
  std::string pty_name_;
  int fd_ = -1;
};

// Everything the container writes to its terminal, until its side is closed (EIO).
std::string read_until_hangup(int master) {
  std::string text;
  char buffer[1024];
  for (;;) {
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return text;
  }
}

TEST_F(TerminalTest, TheConsoleSocketReceivesAWorkingPty) {
  const std::string id = make_id("console");
  testing::TempDir dir;
  const std::string socket_path = dir.file("console.sock");
  ConsoleSocketServer server(socket_path);
  CorralProcess run(
      with_root({"run", "--console-socket", socket_path, "--bundle", terminal_bundle({"sh"}), id}));
  int master = server.receive_master();
  ASSERT_GE(master, 0) << run.err_so_far();
  EXPECT_THAT(server.pty_name(), HasSubstr("/dev/pts/"));
  const std::string input = "tty; echo hi; exit 3\n";
  ASSERT_EQ(::write(master, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  std::string output = read_until_hangup(master);
  ::close(master);
  EXPECT_THAT(output, HasSubstr("hi\r\n"));
  EXPECT_THAT(output, HasSubstr("/dev/pts/0"));  // the container's own devpts instance
  Outcome outcome = run.finish();
  EXPECT_EQ(outcome.status, 3) << outcome.err;
}

TEST_F(TerminalTest, ForegroundRunRelaysTheTerminalItself) {
  const std::string id = make_id("relay");
  testing::TempDir dir;
  CorralOptions options;
  options.stdin_path = dir.write("input", "echo relayed; exit 4\n");
  Outcome outcome = corral({"run", "--bundle", terminal_bundle({"sh"}), id}, options);
  EXPECT_EQ(outcome.status, 4) << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("relayed\r\n"));
}

TEST_F(TerminalTest, TerminalAndConsoleSocketFollowRuncsRules) {
  Outcome detached = corral({"run", "-d", "--bundle", terminal_bundle({"sh"}), make_id("tty-d")});
  EXPECT_EQ(detached.status, 1);
  EXPECT_THAT(detached.err, HasSubstr("cannot allocate tty if corral will detach without setting "
                                      "console socket"));
  Outcome created = corral({"create", "--bundle", terminal_bundle({"sh"}), make_id("tty-c")});
  EXPECT_EQ(created.status, 1);
  EXPECT_THAT(created.err, HasSubstr("cannot allocate tty"));
  Outcome no_tty = corral({"run", "--console-socket", "/nonexistent.sock", "--bundle",
                           bundle({"true"}), make_id("no-tty")});
  EXPECT_EQ(no_tty.status, 1);
  EXPECT_THAT(no_tty.err, HasSubstr("cannot use console socket"));
  Outcome unreachable = corral({"run", "--console-socket", "/nonexistent.sock", "--bundle",
                                terminal_bundle({"sh"}), make_id("unreachable")});
  EXPECT_EQ(unreachable.status, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("/nonexistent.sock"));
  for (const std::string& id : ids_)
    EXPECT_FALSE(std::filesystem::exists(root_.file(id))) << id << " left behind";
}

std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string word; in >> word;) out.insert(word);
  return out;
}

TEST_F(TerminalTest, PreservedFdsReachTheProcessAsTheSameNumbers) {
  testing::TempDir dir;
  const std::string first = dir.file("first"), second = dir.file("second");
  int fd3 = ::open(first.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  int fd4 = ::open(second.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd3, 0);
  ASSERT_GE(fd4, 0);
  CorralOptions options;
  options.extra_fds = {fd3, fd4};
  // The shell's glob lists /proc/self/fd with one descriptor of its own open for the listing.
  const std::vector<std::string> script = {
      "sh", "-c", "cd /proc/self/fd && echo *; echo three >&3; echo four >&4"};
  Outcome kept =
      corral({"run", "--preserve-fds", "2", "--bundle", bundle(script), make_id("fds")}, options);
  EXPECT_EQ(kept.status, 0) << kept.err;
  EXPECT_EQ(words(kept.out), (std::set<std::string>{"0", "1", "2", "3", "4", "5"})) << kept.out;
  EXPECT_EQ(corral::testing::read_file(first), "three\n");
  EXPECT_EQ(corral::testing::read_file(second), "four\n");

  // Without the flag the same descriptors stay out of the container.
  Outcome dropped = corral(
      {"run", "--bundle", bundle({"sh", "-c", "cd /proc/self/fd && echo *"}), make_id("nofds")},
      options);
  EXPECT_EQ(dropped.status, 0) << dropped.err;
  EXPECT_EQ(words(dropped.out), (std::set<std::string>{"0", "1", "2", "3"})) << dropped.out;
  ::close(fd3);
  ::close(fd4);
}

// exec follows run: a terminal to --console-socket, relayed by a foreground exec without one,
// and --preserve-fds.
TEST_F(TerminalTest, ExecGivesATerminalAndPreservedFds) {
  const std::string id = make_id("exec-tty");
  Outcome ran = corral({"run", "-d", "--bundle", bundle({"sleep", "1000"}), id});
  ASSERT_EQ(ran.status, 0) << ran.err;

  testing::TempDir dir;
  const std::string socket_path = dir.file("console.sock");
  ConsoleSocketServer server(socket_path);
  CorralProcess exec(with_root({"exec", "-t", "--console-socket", socket_path, id, "sh"}));
  int master = server.receive_master();
  ASSERT_GE(master, 0) << exec.err_so_far();
  const std::string input = "tty; echo hi; exit 3\n";
  ASSERT_EQ(::write(master, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  std::string output = read_until_hangup(master);
  ::close(master);
  EXPECT_THAT(output, HasSubstr("hi\r\n"));
  EXPECT_THAT(output, HasSubstr("/dev/pts/"));
  Outcome outcome = exec.finish();
  EXPECT_EQ(outcome.status, 3) << outcome.err;

  CorralOptions relayed;
  relayed.stdin_path = dir.write("input", "echo relayed; exit 4\n");
  Outcome foreground = corral({"exec", "-t", id, "sh"}, relayed);
  EXPECT_EQ(foreground.status, 4) << foreground.err;
  EXPECT_THAT(foreground.out, HasSubstr("relayed\r\n"));

  const std::string first = dir.file("first");
  int fd3 = ::open(first.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd3, 0);
  CorralOptions with_fd;
  with_fd.extra_fds = {fd3};
  Outcome kept = corral(
      {"exec", "--preserve-fds", "1", id, "sh", "-c", "cd /proc/self/fd && echo *; echo three >&3"},
      with_fd);
  ::close(fd3);
  EXPECT_EQ(kept.status, 0) << kept.err;
  EXPECT_EQ(words(kept.out), (std::set<std::string>{"0", "1", "2", "3", "4"})) << kept.out;
  EXPECT_EQ(corral::testing::read_file(first), "three\n");
  EXPECT_EQ(corral({"delete", "--force", id}).status, 0);
}

}  // namespace
}  // namespace corral::cli
