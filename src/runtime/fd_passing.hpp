#pragma once
// Descriptors passed over unix sockets (SCM_RIGHTS): a terminal's master from the init, pipe
// ends from corrald to its keeper. One message carries some bytes and up to kMaxPassedFds
// descriptors; received descriptors are close-on-exec and owned by the receiver.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "init/unique_fd.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

inline constexpr std::size_t kMaxPassedFds = 64;

// Sends `data` (at least one byte: a message of none cannot carry descriptors) with `fds`.
// `context` names what is sent, for the error.
Expected<void> send_with_fds(int socket, std::string_view data, std::span<const int> fds,
                             std::string_view context);

struct ReceivedMessage {
  std::string data;  // empty: the peer closed the connection
  std::vector<init::UniqueFd> fds;
};

// Receives one message of at most `max_data` bytes. A message whose bytes or descriptors did
// not fit is an error (its descriptors are closed), as is EAGAIN on a non-blocking socket
// (errno kept in the error, so callers can tell "nothing yet").
Expected<ReceivedMessage> receive_with_fds(int socket, std::size_t max_data,
                                           std::string_view context);

}  // namespace corral
