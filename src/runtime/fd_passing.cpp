#include "runtime/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace corral {

Expected<void> send_with_fds(int socket, std::string_view data, std::span<const int> fds,
                             std::string_view context) {
  if (data.empty() || fds.size() > kMaxPassedFds)
    return fail(Error(ErrorCode::SystemError, std::string(context) +
                                                  ": a message needs 1+ bytes and at most " +
                                                  std::to_string(kMaxPassedFds) + " descriptors"));
  iovec payload{const_cast<char*>(data.data()), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr message{};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  if (!fds.empty()) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &message, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Error::from_errno(errno, std::string(context) + ": sendmsg"));
  if (static_cast<std::size_t>(n) != data.size())
    return fail(Error(ErrorCode::SystemError, std::string(context) + ": message cut short"));
  return {};
}

Expected<ReceivedMessage> receive_with_fds(int socket, std::size_t max_data,
                                           std::string_view context) {
  ReceivedMessage received;
  received.data.resize(max_data == 0 ? 1 : max_data);
  iovec payload{received.data.data(), received.data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr message{};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Error::from_errno(errno, std::string(context) + ": recvmsg"));
  // Own whatever arrived first, so that an error below closes it.
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      received.fds.emplace_back(fd);
    }
  }
  if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    return fail(Error(ErrorCode::SystemError, std::string(context) + ": message larger than " +
                                                  std::to_string(max_data) + " bytes or " +
                                                  std::to_string(kMaxPassedFds) + " descriptors"));
  received.data.resize(static_cast<std::size_t>(n));
  return received;
}

}  // namespace corral
