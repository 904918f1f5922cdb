#pragma once
// Running the external programs a benchmark drives (runtimes, conmon): one at a time, or many
// at once with a bounded number in flight. stdin and stdout are /dev/null; stderr goes to a
// file so that a failure can be reported with the program's own words.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace corral::bench {

struct CommandResult {
  int status = -1;  // exit status, 128 + signal, -1 when it could not be started
  std::string stderr_text;
};

// Starts argv (argv[0] searched in PATH) with stderr to `stderr_path` ("" = /dev/null).
pid_t start_command(const std::vector<std::string>& argv, const std::string& stderr_path = {});
// Waits for `pid` and returns its status (exit status or 128 + signal).
int wait_command(pid_t pid);
// start_command + wait_command, with stderr captured.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& scratch_dir);

// Runs make_argv(i) for i in [0, count), at most `concurrency` at once; returns the number that
// exited 0 and keeps the first failure's stderr in `first_error`.
int run_commands(int count, int concurrency,
                 const std::function<std::vector<std::string>(int)>& make_argv,
                 const std::string& scratch_dir, std::string& first_error);

// A process that is not our child, watched until it exits (a pidfd: polled, never reaped).
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid);  // a pid already gone counts as exited
  ~ProcessWatch();
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;
  // True once the process has exited, waiting at most timeout_ms.
  bool wait_exit(int timeout_ms);

 private:
  int pidfd_ = -1;
};

// "a b c" for a message.
std::string join(const std::vector<std::string>& argv);

}  // namespace corral::bench
