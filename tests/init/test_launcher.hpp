#pragma once
// TEST ONLY: a minimal blocking stand-in for the runtime's parent side. It clone3()s
// corral-init into new namespaces, speaks the init-pipe protocol (bootstrap, procHooks ->
// procResume, procReady -> procRun) and records everything the init said.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/spec/protocol.hpp"

namespace corral::testing {

struct LaunchOptions {
  bool new_network = false;
  protocol::InitType init_type = protocol::InitType::Standard;
  // Extra dirt the init must clean up: an fd without CLOEXEC, a blocked and an ignored signal.
  bool leak_fd_and_signals = false;
  // runc's create/start split: a fifo the init opens for writing after procRun. The launcher
  // calls before_start (while the init must still be waiting), then opens it for reading.
  std::string exec_fifo;
  std::function<void()> before_start;
  bool no_pivot = false;
};

struct LaunchResult {
  int exit_code = -1;                           // 128 + signal when killed
  std::string out;                              // the container's stdout
  std::string err;                              // the container's stderr
  std::vector<protocol::SyncMessage> messages;  // in order
  std::optional<Error> error;                   // what followed procError
  std::optional<protocol::SyncMessage> exec_failed;
  std::string exec_fifo_bytes;  // what the init wrote into the exec fifo
  std::string launcher_error;   // the launcher's own trouble (protocol violations)

  bool saw(protocol::SyncType type) const;
};

// Runs `config` to completion. work_dir receives the stdout/stderr files.
LaunchResult launch(const Config& config, const std::string& work_dir,
                    const LaunchOptions& options = {});

}  // namespace corral::testing
