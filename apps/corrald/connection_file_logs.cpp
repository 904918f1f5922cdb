// `logs` for containers whose log the keeper writes: the files are read (rotated ones whole,
// then the live one), and `follow` keeps reading the live file as it grows. A rotation shows as
// the path naming a new file: the old one is read to its end, then the new one from its start.
// Following polls the file every kFollowPeriod while a client follows, and costs nothing
// otherwise.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "connection.hpp"
#include "reactor/ops.hpp"

namespace corrald {

using namespace corral;
using namespace corral::supervisor;

namespace {

constexpr auto kFollowPeriod = std::chrono::milliseconds(200);

bool same_file(int fd, const std::string& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

}  // namespace

reactor::Task<void> Connection::handle_file_logs(Request request) {
  auto token = stop_.get_token();
  const nlohmann::json tag = request.tag;
  auto info = supervisor_.state(request.id);
  auto files = supervisor_.log_files(request.id);
  if (!info || !files) {
    const Error& error = info ? files.error() : info.error();
    send(error_line(tag, std::string(to_string(error.code())), error.what()));
    co_return;
  }
  const std::string live = info->log_path;
  std::string pending;
  // Sends the complete lines read from `fd` up to its current end; keeps a torn last line.
  auto drain = [&](int fd) -> reactor::Task<void> {
    std::vector<char> chunk(64 * 1024);
    while (!token.stop_requested()) {
      ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n <= 0) break;
      pending.append(chunk.data(), static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        nlohmann::json j{{"log", std::string_view(pending).substr(start, nl - start)}};
        if (!tag.is_null()) j["tag"] = tag;
        send(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      }
      pending.erase(0, start);
      co_await await_drained(kLowWatermark);
    }
  };
  for (const std::string& path : *files) {
    if (path == live) continue;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    co_await drain(fd);
    pending.clear();
    ::close(fd);
  }
  int fd = ::open(live.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) co_await drain(fd);
  send(ok_line(tag, {{"end_of_log", true}, {"follow", request.follow}}));
  bool deleted = false;
  auto subscription = supervisor_.subscribe([&](const Event& event) {
    if (event.type == EventType::Deleted && event.id == request.id) deleted = true;
  });
  while (request.follow && !deleted && !token.stop_requested()) {
    if (!co_await reactor::sleep_for(kFollowPeriod).with_stop(token)) break;
    if (fd >= 0) co_await drain(fd);
    if (fd < 0 || !same_file(fd, live)) {
      if (fd >= 0) ::close(fd);
      pending.clear();
      fd = ::open(live.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) co_await drain(fd);
    }
  }
  supervisor_.unsubscribe(subscription);
  if (fd >= 0) ::close(fd);
}

}  // namespace corrald
