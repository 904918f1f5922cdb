#pragma once
// TEST ONLY: runs the built corral binary with stdout and stderr captured in files (a detached
// container keeps them open, so pipes would never see end of file). start() returns at once, so
// that several invocations can run together; wait() collects one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/temp_dir.hpp"

extern char** environ;

namespace corral::cli::testing {

inline const std::string kCorralBinary = CORRAL_BINARY_DIR "/apps/corral/corral";

struct Outcome {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

class RunningCorral {
 public:
  // Starts `corral ARGS...` (no --root added).
  explicit RunningCorral(const std::vector<std::string>& args)
      : capture_(std::make_unique<TempDir>()) {
    std::vector<std::string> storage{kCorralBinary};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string out_path = capture_->file("out");
    const std::string err_path = capture_->file("err");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&pid_, kCorralBinary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot run " << kCorralBinary << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~RunningCorral() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  RunningCorral(const RunningCorral&) = delete;
  RunningCorral& operator=(const RunningCorral&) = delete;

  pid_t pid() const { return pid_; }

  Outcome wait() {
    Outcome outcome;
    if (pid_ <= 0) return outcome;
    int wait_status = 0;
    while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    outcome.status =
        WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    outcome.out = capture_->read("out");
    outcome.err = capture_->read("err");
    return outcome;
  }

 private:
  std::unique_ptr<TempDir> capture_;
  pid_t pid_ = -1;
};

inline Outcome run_corral(const std::vector<std::string>& args) {
  return RunningCorral(args).wait();
}

}  // namespace corral::cli::testing
