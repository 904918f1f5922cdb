#include "apps/corral/foreground_terminal.hpp"
#include "runtime/fd_passing.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reactor/ops.hpp"

namespace corral::cli {
namespace {

reactor::Task<bool> write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    auto n = co_await reactor::write(fd, data, size);
    if (!n || *n == 0) co_return false;
    data += *n;
    size -= *n;
  }
  co_return true;
}

}  // namespace

ForegroundTerminal::~ForegroundTerminal() {
  if (saved_mode_) ::tcsetattr(STDIN_FILENO, TCSANOW, &*saved_mode_);
  for (int fd : {init_end_, our_end_, master_})
    if (fd >= 0) ::close(fd);
}

Expected<int> ForegroundTerminal::prepare() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0)
    return fail(Error::from_errno(errno, "terminal of run: socketpair"));
  our_end_ = ends[0];
  init_end_ = ends[1];
  return init_end_;
}

Expected<void> ForegroundTerminal::receive_master(const std::string& id) {
  const std::string context = "terminal of container " + id;
  ::close(init_end_);  // the init has its copy: end of stream if it never sends
  init_end_ = -1;
  auto message = receive_with_fds(our_end_, 4096, context + ": receive the pty master");
  if (!message) return fail(std::move(message).error());
  if (message->fds.size() != 1)
    return fail(Error(ErrorCode::SystemError, context + ": the init sent no pty master"));
  master_ = message->fds[0].release();
  termios mode{};
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &mode) == 0) {
    saved_mode_ = mode;
    ::cfmakeraw(&mode);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &mode);
    copy_window_size();
  }
  return {};
}

void ForegroundTerminal::copy_window_size() const {
  winsize size{};
  if (master_ >= 0 && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0)
    ::ioctl(master_, TIOCSWINSZ, &size);
}

reactor::Task<void> ForegroundTerminal::relay_input(std::stop_token stop) {
  char buffer[4096];
  for (;;) {
    auto n = co_await reactor::read(STDIN_FILENO, buffer, sizeof buffer).with_stop(stop);
    if (!n || *n == 0) co_return;
    if (!co_await write_all(master_, buffer, *n)) co_return;
  }
}

reactor::Task<void> ForegroundTerminal::relay_output() {
  char buffer[4096];
  for (;;) {
    auto n = co_await reactor::read(master_, buffer, sizeof buffer);
    if (!n || *n == 0) co_return;  // EIO: no process holds the container's side any more
    if (!co_await write_all(STDOUT_FILENO, buffer, *n)) co_return;
  }
}

}  // namespace corral::cli
