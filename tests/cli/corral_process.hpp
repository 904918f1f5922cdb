#pragma once
// TEST ONLY: running the built corral binary from an end-to-end test. Its stdout and stderr go
// to files (a detached container keeps them open, so pipes would never see end of file); stdin
// is /dev/null unless a file is given. start_corral() returns while corral runs, for tests that
// signal it or talk to it; run_corral() waits.
#include <fcntl.h>
#include <gtest/gtest.h>
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
  int status = -1;  // the exit status, or 128 + the signal that killed corral
  std::string out;
  std::string err;
};

struct CorralOptions {
  std::string cwd = "/";
  std::string stdin_path = "/dev/null";
  // Descriptors of the test given to corral at fds 3, 4, ... in this order (--preserve-fds).
  std::vector<int> extra_fds;
};

class CorralProcess {
 public:
  CorralProcess(const std::vector<std::string>& args, const CorralOptions& options = {}) {
    out_path_ = capture_.file("out");
    err_path_ = capture_.file("err");
    std::vector<std::string> storage{kCorralBinary};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, options.stdin_path.c_str(), O_RDONLY,
                                     0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    // Moved up first, so that laying them out at 3.. never overwrites one not yet placed.
    std::vector<int> staged;
    for (int fd : options.extra_fds) staged.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    for (std::size_t i = 0; i < staged.size(); ++i)
      posix_spawn_file_actions_adddup2(&actions, staged[i], 3 + static_cast<int>(i));
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    int rc = posix_spawn(&pid_, kCorralBinary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    for (int fd : staged) ::close(fd);
    if (rc != 0) {
      ADD_FAILURE() << "cannot run " << kCorralBinary << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~CorralProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)finish();
    }
  }
  CorralProcess(const CorralProcess&) = delete;
  CorralProcess& operator=(const CorralProcess&) = delete;

  pid_t pid() const { return pid_; }
  // What corral has written to stderr so far.
  std::string err_so_far() const { return capture_.read("err"); }
  std::string out_so_far() const { return capture_.read("out"); }

  // Waits for corral to exit.
  Outcome finish() {
    Outcome outcome;
    if (pid_ <= 0) return outcome;
    int wait_status = 0;
    while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    outcome.status =
        WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    outcome.out = capture_.read("out");
    outcome.err = capture_.read("err");
    return outcome;
  }

 private:
  TempDir capture_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
};

inline Outcome run_corral(const std::vector<std::string>& args, const CorralOptions& options = {}) {
  CorralProcess process(args, options);
  return process.finish();
}

}  // namespace corral::cli::testing
