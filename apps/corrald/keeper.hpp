#pragma once
// The keeper: corrald's small, simple parent process, which outlives corrald's crashes.
//
// `corrald` started by a user becomes the keeper; the keeper starts the real daemon as its
// child (the same binary with --keeper-fd) and starts it again if it dies. As a child
// subreaper above corrald, the keeper inherits every container init a dying corrald leaves
// behind, so it reaps them and writes their true exit statuses to a journal
// (ExitJournal, group-committed), which it passes to the next corrald. It also holds and reads
// every container's stdout/stderr pipe, writing the CRI log files: a corrald crash loses no
// line and sends no SIGPIPE to a container. Everything else (API, state.json, restarts) is
// corrald's; the keeper has no socket of its own and parses nothing but corrald's messages.
//
// SIGTERM/SIGINT are passed to corrald; once corrald has exited on them, so does the keeper.
#include <chrono>
#include <string>
#include <vector>

namespace corrald {

struct KeeperOptions {
  std::string root;                      // corrald's --root: the journal lives in ROOT/keeper
  std::vector<std::string> daemon_argv;  // how to start corrald (without --keeper-fd)
  std::chrono::milliseconds respawn_delay{1000};
};

// Runs the keeper until corrald ends for good; returns the process's exit status.
int run_keeper(const KeeperOptions& options);

}  // namespace corrald
