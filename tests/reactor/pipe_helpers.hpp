#pragma once
// Pipes for the tests of held files (file_table_test, held_callback_op_test).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

namespace corral::reactor::testing {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

// Close-on-exec; `flags` adds to that (O_NONBLOCK).
inline Pipe make_pipe(int flags = 0) {
  int p[2] = {-1, -1};
  EXPECT_EQ(::pipe2(p, O_CLOEXEC | flags), 0) << "pipe2: " << std::strerror(errno);
  return {p[0], p[1]};
}

// True once nobody holds the read end any more: the write end reports POLLERR.
inline bool reader_gone(int write_end) {
  pollfd p{write_end, POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

}  // namespace corral::reactor::testing
