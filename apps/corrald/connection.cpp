#include "connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "reactor/ops.hpp"

namespace corrald {

using namespace corral;
using namespace corral::supervisor;

namespace {

std::string error_code_name(const Error& error) {
  return std::string(to_string(error.code()));
}

}  // namespace

Connection::Connection(int fd, Supervisor& supervisor, std::function<void(bool)> on_shutdown)
    : fd_(fd), supervisor_(supervisor), on_shutdown_(std::move(on_shutdown)) {}

Connection::~Connection() {
  ::close(fd_);
}

void Connection::drop(const char* why) {
  if (dropped_) return;
  dropped_ = true;
  std::fprintf(stderr, "corrald: dropping client fd %d: %s\n", fd_, why);
  stop_.request_stop();
  // Ends a recv or send in flight at once, whatever the client does.
  ::shutdown(fd_, SHUT_RDWR);
}

bool Connection::send(std::string line) {
  if (dropped_) return false;
  if (queued_ + line.size() > kMaxQueuedBytes) {
    drop("it does not read its responses (output queue full)");
    return false;
  }
  queued_ += line.size();
  out_.push_back(std::move(line));
  out_ready_.notify_all();
  return true;
}

reactor::Task<void> Connection::writer() {
  auto token = stop_.get_token();
  std::string chunk;
  while (!token.stop_requested()) {
    if (out_.empty()) {
      if (!co_await out_ready_.wait(token)) break;
      continue;
    }
    // Several small lines go out in one send.
    chunk.clear();
    while (!out_.empty() && chunk.size() < 64 * 1024) {
      chunk += out_.front();
      out_.pop_front();
    }
    std::size_t sent = 0;
    while (sent < chunk.size()) {
      auto n =
          co_await reactor::send(fd_, chunk.data() + sent, chunk.size() - sent).with_stop(token);
      if (!n || *n == 0) {
        drop("send failed (client gone)");
        co_return;
      }
      sent += *n;
    }
    queued_ -= chunk.size();
    drained_.notify_all();
  }
}

reactor::Task<void> Connection::await_drained(std::size_t at_most) {
  auto token = stop_.get_token();
  while (queued_ > at_most && !token.stop_requested()) co_await drained_.wait(token);
}

reactor::Task<void> Connection::serve(std::stop_token stop) {
  std::stop_callback on_stop(stop, [this] { drop("the daemon is shutting down"); });
  tasks_.spawn(writer());
  std::string buffer;
  bool skipping = false;  // the rest of an oversized line, already answered
  std::vector<char> chunk(64 * 1024);
  auto token = stop_.get_token();
  bool end_of_requests = false;
  while (!token.stop_requested()) {
    auto n = co_await reactor::recv(fd_, chunk.data(), chunk.size()).with_stop(token);
    if (!n || *n == 0) {
      end_of_requests = n && *n == 0;
      break;
    }
    buffer.append(chunk.data(), *n);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(buffer.data() + start, nl - start);
      if (skipping) {
        skipping = false;
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      auto parsed = parse_request(line);
      if (!parsed) {
        send(error_line(nullptr, parsed.error().code, parsed.error().message));
        continue;
      }
      // Quick requests are handled in order; the helper suspends only for create/start/delete.
      auto task = handle(std::move(*parsed));
      co_await std::move(task);
      if (token.stop_requested()) break;
    }
    buffer.erase(0, start);
    if (buffer.size() > kMaxRequestLine && !skipping) {
      send(error_line(nullptr, "TooLarge",
                      "request line exceeds the limit of " + std::to_string(kMaxRequestLine) +
                          " bytes; it is skipped up to its newline"));
      skipping = true;
    }
    if (skipping) buffer.clear();
  }
  // A client that half-closed after its requests still gets the answers already queued
  // (`echo '{"verb":"list"}' | socat - UNIX-CONNECT:...`); pending streams end here.
  if (end_of_requests) co_await await_drained(0);
  stop_.request_stop();
  out_ready_.notify_all();
  co_await tasks_.join();
}

reactor::Task<void> Connection::handle(Request request) {
  const nlohmann::json& tag = request.tag;
  auto reply_error = [&](const Error& e) { send(error_line(tag, error_code_name(e), e.what())); };
  switch (request.verb) {
    case Verb::Create:
    case Verb::Run: {
      CreateRequest create{request.id, request.bundle, request.restart};
      auto made = request.verb == Verb::Run ? supervisor_.run(std::move(create))
                                            : supervisor_.create(std::move(create));
      auto result = co_await std::move(made);
      if (!result)
        reply_error(result.error());
      else
        send(ok_line(tag, {{"container", result->to_json()}}));
      break;
    }
    case Verb::Start: {
      auto started = supervisor_.start(request.id);
      auto result = co_await std::move(started);
      if (!result)
        reply_error(result.error());
      else
        send(ok_line(tag, {{"container", result->to_json()}}));
      break;
    }
    case Verb::Kill: {
      auto killed = supervisor_.kill(request.id, request.signal, request.all);
      if (!killed)
        reply_error(killed.error());
      else
        send(ok_line(tag));
      break;
    }
    case Verb::Delete: {
      auto removing = supervisor_.remove(request.id, request.force);
      auto removed = co_await std::move(removing);
      if (!removed)
        reply_error(removed.error());
      else
        send(ok_line(tag));
      break;
    }
    case Verb::State: {
      auto state = supervisor_.state(request.id);
      if (!state)
        reply_error(state.error());
      else
        send(ok_line(tag, {{"container", state->to_json()}}));
      break;
    }
    case Verb::List: {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& info : supervisor_.list()) all.push_back(info.to_json());
      send(ok_line(tag, {{"containers", std::move(all)}}));
      break;
    }
    case Verb::Stats: {
      if (!request.id.empty()) {
        auto stats = supervisor_.stats(request.id);
        if (!stats)
          reply_error(stats.error());
        else
          send(ok_line(tag, {{"stats", *stats}}));
      } else {
        send(ok_line(tag, {{"stats", daemon_stats(supervisor_)}}));
      }
      break;
    }
    case Verb::Shutdown: {
      send(ok_line(tag));
      co_await await_drained(0);
      on_shutdown_(request.stop_containers);
      break;
    }
    case Verb::Wait:
      tasks_.spawn(handle_wait(std::move(request)));
      break;
    case Verb::Events:
      tasks_.spawn(handle_events(std::move(request)));
      break;
    case Verb::Logs:
      tasks_.spawn(handle_logs(std::move(request)));
      break;
  }
}

reactor::Task<void> Connection::handle_wait(Request request) {
  auto waiting = supervisor_.wait(request.id, stop_.get_token());
  auto exit = co_await std::move(waiting);
  if (!exit) {
    if (!stop_.stop_requested())
      send(error_line(request.tag, error_code_name(exit.error()), exit.error().what()));
    co_return;
  }
  send(ok_line(request.tag, {{"id", request.id}, {"exit", exit_to_json(*exit)}}));
}

reactor::Task<void> Connection::handle_events(Request request) {
  auto token = stop_.get_token();
  nlohmann::json tag = request.tag;
  auto handle = supervisor_.subscribe([this, tag](const Event& event) {
    nlohmann::json item{{"event", event.to_json()}};
    if (!tag.is_null()) item["tag"] = tag;
    send(item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  });
  send(ok_line(tag, {{"subscribed", true}}));
  Notifier never;  // only the end of the connection ends a subscription
  co_await never.wait(token);
  supervisor_.unsubscribe(handle);
}

reactor::Task<void> Connection::handle_logs(Request request) {
  auto token = stop_.get_token();
  const nlohmann::json tag = request.tag;
  if (supervisor_.log_files(request.id) && !supervisor_.log(request.id)) {
    co_await handle_file_logs(std::move(request));
    co_return;
  }
  auto writer = supervisor_.log(request.id);
  if (!writer) {
    send(error_line(tag, error_code_name(writer.error()), writer.error().what()));
    co_return;
  }
  auto item = [&tag](std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    nlohmann::json j{{"log", line}};
    if (!tag.is_null()) j["tag"] = tag;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  };
  // Open every file and note the live one's size before anything can suspend: lines written
  // after this point come through the observer, lines before it from the files, none twice.
  std::vector<std::pair<int, std::uint64_t>> files;  // fd, bytes to read (~0: all)
  auto paths = (*writer)->files();
  for (std::size_t i = 0; i < paths.size(); ++i) {
    int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    bool live = i + 1 == paths.size() && paths[i] == (*writer)->path();
    files.emplace_back(fd, live ? (*writer)->size() : ~std::uint64_t{0});
  }
  std::vector<std::string> later;
  bool dumping = true;
  std::uint64_t observer = 0;
  LogWriter* log = *writer;
  if (request.follow)
    observer = log->observe([&, this](std::string_view line) {
      if (dumping) {
        later.emplace_back(line);
        if (later.size() > 100'000) drop("too many log lines arrived during the dump");
      } else {
        send(item(line));
      }
    });
  std::string pending;
  std::vector<char> chunk(64 * 1024);
  for (auto [fd, limit] : files) {
    std::uint64_t done = 0;
    while (done < limit && !token.stop_requested()) {
      std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), limit - done));
      ssize_t n = ::read(fd, chunk.data(), want);
      if (n <= 0) break;
      done += static_cast<std::uint64_t>(n);
      pending.append(chunk.data(), static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
        send(item(std::string_view(pending).substr(start, nl - start)));
      pending.erase(0, start);
      co_await await_drained(kLowWatermark);
    }
    pending.clear();
    ::close(fd);
  }
  dumping = false;
  for (const std::string& line : later) send(item(line));
  later.clear();
  send(ok_line(tag, {{"end_of_log", true}, {"follow", request.follow}}));
  if (!request.follow) co_return;
  // Following ends with the connection or with the container's deletion (its writer is gone
  // with it, and the observer with the writer).
  auto still = supervisor_.log(request.id);
  if (!still || *still != log) co_return;
  Notifier ended;
  bool deleted = false;
  auto subscription = supervisor_.subscribe([&](const Event& event) {
    if (event.type == EventType::Deleted && event.id == request.id) {
      deleted = true;
      ended.notify_all();
    }
  });
  co_await ended.wait(token);
  supervisor_.unsubscribe(subscription);
  if (!deleted) log->unobserve(observer);
}

}  // namespace corrald
