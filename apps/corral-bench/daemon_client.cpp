#include "apps/corral-bench/daemon_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace corral::bench {

namespace {

// A daemon that neither answers nor closes within this long is taken as hung: the benchmark
// reports it rather than waiting forever. Far above any answer a working corrald gives.
constexpr int kAnswerTimeoutMs = 120'000;

std::runtime_error failure(const std::string& socket_path, const std::string& what) {
  return std::runtime_error("corrald at " + socket_path + ": " + what);
}

}  // namespace

DaemonConnection::DaemonConnection(const std::string& socket_path) : socket_path_(socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path)
    throw failure(socket_path, "socket path too long");
  socket_path.copy(address.sun_path, socket_path.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw failure(socket_path, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw failure(socket_path, std::string("connect: ") + std::strerror(error));
  }
}

DaemonConnection::~DaemonConnection() {
  if (fd_ >= 0) ::close(fd_);
}

DaemonConnection::DaemonConnection(DaemonConnection&& other) noexcept
    : fd_(other.fd_),
      closed_(other.closed_),
      socket_path_(std::move(other.socket_path_)),
      buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

void DaemonConnection::send(const nlohmann::json& request) {
  std::string line = request.dump() + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw failure(socket_path_, std::string("send: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
}

std::optional<nlohmann::json> DaemonConnection::buffered() {
  auto nl = buffer_.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  auto line = nlohmann::json::parse(buffer_.begin(), buffer_.begin() + static_cast<long>(nl),
                                    nullptr, false);
  buffer_.erase(0, nl + 1);
  if (line.is_discarded()) throw failure(socket_path_, "sent a line that is not JSON");
  return line;
}

bool DaemonConnection::fill() {
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<nlohmann::json> DaemonConnection::next(int timeout_ms) {
  for (;;) {
    if (auto line = buffered()) return line;
    if (closed_) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    if (!fill()) return std::nullopt;
  }
}

nlohmann::json DaemonConnection::request(const nlohmann::json& request) {
  send(request);
  for (;;) {
    auto line = next();
    if (!line)
      throw failure(socket_path_, "closed the connection before answering " + request.dump());
    if (line->contains("ok")) return *line;
  }
}

std::string response_error(const nlohmann::json& response) {
  if (response.value("ok", false)) return "";
  const auto& error = response.contains("error") ? response["error"] : nlohmann::json::object();
  return error.value("code", std::string("?")) + ": " + error.value("message", response.dump());
}

void request_all(std::vector<DaemonConnection>& connections, int count,
                 const std::function<nlohmann::json(int)>& make_request,
                 const std::function<void(int, const nlohmann::json&)>& on_response) {
  std::vector<int> in_flight(connections.size(), -1);  // request index per connection
  int next = 0, answered = 0;
  while (answered < count) {
    for (std::size_t c = 0; c < connections.size() && next < count; ++c) {
      if (in_flight[c] >= 0) continue;
      in_flight[c] = next;
      connections[c].send(make_request(next++));
    }
    std::vector<pollfd> polls;
    for (std::size_t c = 0; c < connections.size(); ++c)
      polls.push_back({connections[c].fd(), static_cast<short>(in_flight[c] >= 0 ? POLLIN : 0), 0});
    int ready = ::poll(polls.data(), polls.size(), kAnswerTimeoutMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll on corrald connections: ") + std::strerror(errno));
    }
    if (ready == 0)
      throw failure(connections.front().socket_path(), "no answer within 120 s to any of " +
                                                           std::to_string(next - answered) +
                                                           " requests in flight");
    for (std::size_t c = 0; c < connections.size(); ++c) {
      if (in_flight[c] < 0 || polls[c].revents == 0) continue;
      if (!connections[c].fill())
        throw failure(connections[c].socket_path(), "closed a connection with a request in flight");
      while (auto line = connections[c].buffered()) {
        if (!line->contains("ok")) continue;  // an item line: not ours to answer
        on_response(in_flight[c], *line);
        in_flight[c] = -1;
        ++answered;
        break;
      }
    }
  }
}

}  // namespace corral::bench
