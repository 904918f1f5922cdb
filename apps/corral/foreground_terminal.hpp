#pragma once
// `corral run` in the foreground with process.terminal and no --console-socket: corral is its
// own console socket. It hands one end of a socketpair to the init, receives the pty master
// from the container, and relays it: its stdin to the master, the master to its stdout, with
// its own terminal (when stdin is one) in raw mode meanwhile and SIGWINCH copying its size.
#include <termios.h>

#include <optional>
#include <stop_token>

#include "reactor/task.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

class ForegroundTerminal {
 public:
  ForegroundTerminal() = default;
  ~ForegroundTerminal();
  ForegroundTerminal(const ForegroundTerminal&) = delete;
  ForegroundTerminal& operator=(const ForegroundTerminal&) = delete;

  // Makes the socketpair; the returned end is for the init (ProcessIo::console_socket_fd).
  Expected<int> prepare();
  // The master has been received: the terminal is relayed by corral.
  bool relaying() const { return master_ >= 0; }

  // After create: takes the master the init sent, and puts corral's terminal in raw mode.
  Expected<void> receive_master(const std::string& id);

  // Copies the size of corral's terminal (stdin) to the container's (on start and SIGWINCH).
  void copy_window_size() const;

  // Relays stdin to the master until `stop` (or end of stdin).
  reactor::Task<void> relay_input(std::stop_token stop);
  // Relays the master to stdout until the container's side is closed (EIO): every byte the
  // container wrote is out when it returns.
  reactor::Task<void> relay_output();

 private:
  int init_end_ = -1;
  int our_end_ = -1;
  int master_ = -1;
  std::optional<termios> saved_mode_;
};

}  // namespace corral::cli
