#include "apps/corral-bench/commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace corral::bench {

namespace {

int status_of(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

std::string read_and_remove(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  ::unlink(path.c_str());
  return s.str();
}

}  // namespace

pid_t start_command(const std::vector<std::string>& argv, const std::string& stderr_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2,
                                   stderr_path.empty() ? "/dev/null" : stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int wait_command(pid_t pid) {
  if (pid < 0) return -1;
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status_of(wait_status);
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& scratch_dir) {
  static int serial = 0;
  std::string err =
      scratch_dir + "/stderr-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  CommandResult result;
  pid_t pid = start_command(argv, err);
  if (pid < 0) {
    result.stderr_text = "cannot start " + argv[0];
    return result;
  }
  result.status = wait_command(pid);
  result.stderr_text = read_and_remove(err);
  return result;
}

int run_commands(int count, int concurrency,
                 const std::function<std::vector<std::string>(int)>& make_argv,
                 const std::string& scratch_dir, std::string& first_error) {
  std::map<pid_t, std::pair<std::string, std::vector<std::string>>> running;  // pid -> stderr, argv
  int next = 0, succeeded = 0;
  while (next < count || !running.empty()) {
    while (next < count && static_cast<int>(running.size()) < concurrency) {
      auto argv = make_argv(next);
      std::string err = scratch_dir + "/stderr-pool-" + std::to_string(next);
      pid_t pid = start_command(argv, err);
      ++next;
      if (pid < 0) {
        if (first_error.empty()) first_error = "cannot start " + join(argv);
        continue;
      }
      running.emplace(pid, std::make_pair(err, std::move(argv)));
    }
    if (running.empty()) break;
    int wait_status = 0;
    pid_t done = ::waitpid(-1, &wait_status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(done);
    if (it == running.end()) continue;  // not one of ours (cannot happen: nothing else runs)
    std::string text = read_and_remove(it->second.first);
    if (status_of(wait_status) == 0) {
      ++succeeded;
    } else if (first_error.empty()) {
      first_error = join(it->second.second) + ": exit " + std::to_string(status_of(wait_status)) +
                    ": " + text;
    }
    running.erase(it);
  }
  return succeeded;
}

ProcessWatch::ProcessWatch(pid_t pid)
    : pidfd_(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1) {}

ProcessWatch::~ProcessWatch() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ProcessWatch::wait_exit(int timeout_ms) {
  if (pidfd_ < 0) return true;
  pollfd p{pidfd_, POLLIN, 0};
  int ready;
  while ((ready = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return ready > 0;
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace corral::bench
