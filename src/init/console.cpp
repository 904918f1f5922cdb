#include "init/console.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "init/setup_error.hpp"
#include "init/unique_fd.hpp"

namespace corral::init {
namespace {

Expected<void> send_fd(int socket_fd, int fd, const std::string& name) {
  iovec data{const_cast<char*>(name.data()), name.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  ssize_t sent;
  do {
    sent = ::sendmsg(socket_fd, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0)
    return fail(setup_error(errno, "send the pty master over the console socket", "sendmsg", name));
  return {};
}

}  // namespace

Expected<void> setup_console(int socket_fd, const std::optional<ConsoleSize>& size) {
  UniqueFd socket(socket_fd);
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid())
    return fail(setup_error(errno, "open the terminal's master /dev/ptmx", "open", "/dev/ptmx"));
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0)
    return fail(
        setup_error(errno, "unlock the terminal /dev/ptmx", "ioctl TIOCSPTLCK", "/dev/ptmx"));
  unsigned number = 0;
  if (::ioctl(master.get(), TIOCGPTN, &number) < 0)
    return fail(
        setup_error(errno, "number of the terminal /dev/ptmx", "ioctl TIOCGPTN", "/dev/ptmx"));
  const std::string slave_path = "/dev/pts/" + std::to_string(number);
  // The slave through the master itself: no path lookup that a container could redirect.
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid())
    return fail(
        setup_error(errno, "open the terminal " + slave_path, "ioctl TIOCGPTPEER", slave_path));
  if (size) {
    winsize window{};
    window.ws_row = static_cast<unsigned short>(size->height);
    window.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(master.get(), TIOCSWINSZ, &window) < 0)
      return fail(
          setup_error(errno, "set the size of " + slave_path, "ioctl TIOCSWINSZ", slave_path));
  }
  if (auto sent = send_fd(socket.get(), master.get(), slave_path); !sent) return sent;
  master.reset();
  socket.reset();
  // The init leads its own session (setsid at its start): the slave becomes its terminal.
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0)
    return fail(setup_error(errno, "make " + slave_path + " the controlling terminal",
                            "ioctl TIOCSCTTY", slave_path));
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave.get(), fd) < 0)
      return fail(
          setup_error(errno, "make " + slave_path + " the standard streams", "dup2", slave_path));
  return {};
}

}  // namespace corral::init
