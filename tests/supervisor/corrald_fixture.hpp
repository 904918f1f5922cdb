#pragma once
// The corrald binary under test: a daemon (its front, whose keeper runs corrald proper) on a
// temporary root and socket, a busybox bundle maker, a raw JSON client and corralctl.
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

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/temp_dir.hpp"
#include "runtime/proc_stat.hpp"
#include "runtime/spec/default_spec.hpp"

extern char** environ;

namespace corral::supervisor::testing {

using nlohmann::json;
using ::testing::HasSubstr;

inline const std::string kCorrald = CORRAL_BINARY_DIR "/apps/corrald/corrald";
inline const std::string kCorralctl = CORRAL_BINARY_DIR "/apps/corralctl/corralctl";

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
    if (start_in_setup_) start_daemon();
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
    // The keeper outlives the front while containers run; neither it nor corrald may outlive
    // the test (a generous bound for them to go).
    for (int i = 0; i < 200; ++i) {
      pid_t keeper = keeper_pid(), corrald = corrald_pid();
      if (keeper == 0 && corrald == 0) break;
      for (pid_t pid : {keeper, corrald})
        if (pid > 0) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
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

  // The front (the process started, daemon_), which has the root's keeper run corrald proper.
  void start_daemon(const std::vector<std::string>& extra = {}) {
    // Both streams to the log: a daemon this test fails to stop must not hold ctest's pipe.
    int log =
        ::open(dir_.file("daemon.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(log, 0);
    daemon_ = spawn_corrald(socket_, log, extra);
    ::close(log);
    ASSERT_GT(daemon_, 0);
    // Up when it answers (bounded by a generous limit, never asserted as a timing).
    for (int i = 0; i < 600; ++i) {
      if (answers_list()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "corrald did not come up; log:\n" << dir_.read("daemon.log");
  }

  // `corrald --root ROOT --socket SOCKET EXTRA...` with stdout and stderr on `output`: its pid.
  pid_t spawn_corrald(const std::string& socket, int output,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> storage{kCorrald, "--root", root_, "--socket", socket};
    storage.insert(storage.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, output, 1);
    posix_spawn_file_actions_adddup2(&actions, output, 2);
    pid_t pid = -1;
    if (posix_spawn(&pid, kCorrald.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  // The printer (0, 1, 2, ... `lines` of them, then status 0) and the quitter (status 42) of the
  // outage tests: both ended with their true statuses, and no line lost.
  void expect_true_statuses(Client& c, const std::string& printer, int lines,
                            const std::string& quitter) {
    auto q_exit = c.call({{"verb", "wait"}, {"id", quitter}});
    ASSERT_EQ(q_exit["ok"], true) << q_exit;
    EXPECT_EQ(q_exit["exit"]["known"], true) << q_exit;
    EXPECT_EQ(q_exit["exit"]["status"], 42) << q_exit;
    auto p_exit = c.call({{"verb", "wait"}, {"id", printer}});
    ASSERT_EQ(p_exit["ok"], true) << p_exit;
    EXPECT_EQ(p_exit["exit"]["known"], true) << p_exit;
    EXPECT_EQ(p_exit["exit"]["shell_status"], 0) << p_exit << " (141: it lost its log reader)";
    EXPECT_EQ(numbered_log_lines(printer), lines) << "lines lost around the outage";
  }

  // The live processes of this test's root, named `name` in ps, whose arguments include `flag`:
  // corrald proper ("corrald", "--keeper-fd") and its keeper ("corrald-keeper", "--as-keeper").
  std::vector<pid_t> root_processes(const std::string& name, const std::string& flag) const {
    std::vector<pid_t> found;
    std::error_code ec;
    for (const auto& dirent : std::filesystem::directory_iterator("/proc", ec)) {
      std::string pid = dirent.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      // read(2), not a stream: a process that exits meanwhile makes the read fail (ESRCH),
      // which a stream reports by throwing.
      std::string stat = read_small(dirent.path() / "stat");
      auto parsed = parse_proc_stat(stat);
      if (!parsed || parsed->state == 'Z') continue;
      auto open = stat.find('('), close = stat.rfind(')');  // parse_proc_stat found both
      if (stat.substr(open + 1, close - open - 1) != name) continue;
      std::vector<std::string> args;
      std::string cmdline = read_small(dirent.path() / "cmdline");
      for (std::size_t at = 0; at < cmdline.size();) {
        std::size_t end = cmdline.find('\0', at);
        if (end == std::string::npos) end = cmdline.size();
        args.push_back(cmdline.substr(at, end - at));
        at = end + 1;
      }
      auto has = [&](const std::string& arg) {
        return std::find(args.begin(), args.end(), arg) != args.end();
      };
      if (has(flag) && has(root_)) found.push_back(static_cast<pid_t>(std::stoi(pid)));
    }
    return found;
  }
  static std::string read_small(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    ::close(fd);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }

  // corrald proper (0 while there is none).
  pid_t corrald_pid() const {
    auto pids = root_processes("corrald", "--keeper-fd");
    return pids.empty() ? 0 : pids.front();
  }
  // The root's keeper (0 when there is none).
  pid_t keeper_pid() const {
    auto pids = root_processes("corrald-keeper", "--as-keeper");
    return pids.empty() ? 0 : pids.front();
  }

  // Waits until the daemon answers on its socket (a generous bound, never asserted as timing).
  // A connection the daemon closes unanswered (it is starting, or dying) is a no, not a throw.
  bool answers_list() {
    Client c(socket_);
    if (!c.connected()) return false;
    json answer = c.call({{"verb", "list"}});
    return answer.is_object() && answer.value("ok", false);
  }

  bool wait_until_serving() {
    for (int i = 0; i < 1200; ++i) {
      if (answers_list()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int stop_daemon(int signal) {
    ::kill(daemon_, signal);
    int status = 0;
    ::waitpid(daemon_, &status, 0);
    daemon_ = -1;
    return status;
  }

  // A container that printed 0, 1, 2, ... one number a line: how many lines its log holds, each
  // checked to be the next number (-1, with a failure, at the first that is not).
  int numbered_log_lines(const std::string& id) {
    std::ifstream log(root_ + "/supervised/" + id + "/container.log");
    std::string line;
    int count = 0;
    std::regex entry(R"(^\S+ stdout F (\d+)$)");
    while (std::getline(log, line)) {
      std::smatch m;
      if (!std::regex_match(line, m, entry) || std::stoi(m[1]) != count) {
        ADD_FAILURE() << id << ": line " << count << " is \"" << line
                      << "\": a line lost, repeated or not a number";
        return -1;
      }
      ++count;
    }
    return count;
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

  bool start_in_setup_ = true;  // false: the test starts the daemon with its own flags
  cli::testing::TempDir dir_;
  std::string root_, socket_, rootfs_;
  pid_t daemon_ = -1;
  std::vector<std::string> ids_;
};

}  // namespace corral::supervisor::testing
