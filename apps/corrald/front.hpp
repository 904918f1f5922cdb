#pragma once
// The front: the process a user starts as `corrald` (without --no-keeper). It finds the keeper
// of its root, or starts one, asks it to run corrald proper with the front's own arguments and
// stdin/stdout/stderr, passes on the signals it gets (SIGTERM, SIGINT, SIGHUP), and exits with
// corrald's status when corrald ends for good (keeper_protocol.hpp).
//
// Why a front: a service manager, a terminal or a test waits for the process it started, which
// must end when corrald does. The keeper must not: while containers run after a graceful
// shutdown, it keeps reading their logs and reaping their exits, for the next corrald.
#include <chrono>
#include <string>
#include <vector>

namespace corrald {

struct FrontOptions {
  std::string root;                      // corrald's --root
  std::vector<std::string> daemon_argv;  // corrald's arguments (argv[0] included)
  std::chrono::milliseconds respawn_delay{1000};
};

// Returns the process's exit status: corrald's, or 1 with the reason on stderr.
int run_front(const FrontOptions& options);

}  // namespace corrald
