#pragma once
// The keeper: corrald's small, simple parent process, which outlives corrald's crashes and its
// graceful stops.
//
// A front (front.hpp) starts it, in a session of its own, when the root has none, and asks it
// to run the daemon proper as its child (the same binary with --keeper-fd); the keeper starts
// corrald again if it dies. As a child subreaper above corrald, the keeper inherits every
// container init corrald leaves behind (crashed or stopped), so it reaps them and writes their
// true exit statuses to a journal (ExitJournal, group-committed), which it passes to the next
// corrald. It also holds and reads every container's stdout/stderr pipe, writing the CRI log
// files: neither a crash nor a stop of corrald loses a line or sends SIGPIPE to a container.
// Everything else (API, state.json, restarts) is corrald's; the keeper's only socket is the one
// fronts ask on (keeper_front_door.hpp), and it parses nothing but fronts' and corrald's
// messages.
//
// It ends when it has no child left and no corrald to run. SIGTERM/SIGINT to the keeper itself
// stop corrald and then end the keeper, containers or not.
#include <string>

namespace corrald {

struct KeeperOptions {
  std::string root;  // corrald's --root, absolute: the journal and the socket live in ROOT/keeper
};

// Runs the keeper (its listening socket and lock inherited at kKeeperListenFd and
// kKeeperLockFd) until nothing is left to keep; returns the process's exit status.
int run_keeper(const KeeperOptions& options);

}  // namespace corrald
