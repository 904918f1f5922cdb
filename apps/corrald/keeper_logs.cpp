#include "keeper_logs.hpp"
#include "runtime/unix_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "reactor/ops.hpp"

namespace corrald {

using namespace corral;
using supervisor::LogEntry;
using supervisor::LogStream;

Expected<void> KeeperLogs::open_table(unsigned capacity, std::string& description) {
  auto table = reactor::FileTable::open(capacity);
  if (!table) return fail(Error::from_errno(table.error().value(), "keeper: log pipe table"));
  description = table->describe();
  table_.emplace(std::move(*table));
  return {};
}

std::unique_ptr<char[]> KeeperLogs::take_buffer() {
  if (free_buffers_.empty()) return std::make_unique<char[]>(kBufferSize);
  auto buffer = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return buffer;
}

void KeeperLogs::give_back(std::unique_ptr<char[]> buffer) {
  free_buffers_.push_back(std::move(buffer));
}

void KeeperLogs::capture(const std::string& id, const std::string& path,
                         supervisor::LogRotation rotation, std::size_t max_line, init::UniqueFd out,
                         init::UniqueFd err, reactor::TaskScope& scope, std::stop_token stop) {
  auto [it, fresh] = targets_.try_emplace(path);
  Target& target = it->second;
  target.id = id;
  if (fresh) {
    auto opened = supervisor::LogWriter::open(path, rotation);
    if (!opened)
      std::fprintf(stderr, "corrald-keeper: container %s: %s (its output is read and dropped)\n",
                   id.c_str(), opened.error().what().c_str());
    else
      target.writer = std::move(*opened);
    // Opened to check it can be written; kept open only while few logs exist.
    if (targets_.size() > max_open_files_) target.writer.close_file();
  }
  std::pair<init::UniqueFd*, LogStream> pipes[] = {{&out, LogStream::Stdout},
                                                   {&err, LogStream::Stderr}};
  for (auto& [fd, kind] : pipes) {
    if (!fd->valid()) continue;
    // Reads return EAGAIN instead of waiting: readiness is awaited by a poll, which holds no
    // buffer. (The file description was shared with corrald, which has closed its copy.)
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
    auto held = table_->hold(fd->get());
    if (!held) {
      std::fprintf(stderr, "corrald-keeper: container %s: hold a log pipe: %s\n", id.c_str(),
                   held.error().message().c_str());
      continue;
    }
    fd->release();  // the table owns it now
    streams_.push_back(Stream{it, *held, supervisor::CriLineSplitter(kind, max_line)});
    streams_.back().self = std::prev(streams_.end());
    ++target.streams;
    scope.spawn(pump(streams_.back(), stop));
  }
  if (target.streams == 0) targets_.erase(it);
}

void KeeperLogs::write(Stream& stream, std::vector<LogEntry>& entries) {
  Target& target = stream.target->second;
  if (entries.empty()) return;
  if (!target.writer.path().empty()) {
    std::int64_t now = unix_time_ns();
    for (const LogEntry& entry : entries) {
      auto written = target.writer.write(entry, now);
      if (!written) {
        std::fprintf(stderr, "corrald-keeper: container %s: %s\n", target.id.c_str(),
                     written.error().what().c_str());
        break;
      }
    }
    if (targets_.size() > max_open_files_) target.writer.close_file();
  }
  entries.clear();
}

reactor::Task<void> KeeperLogs::pump(Stream& stream, std::stop_token stop) {
  // This frame is what a quiet pipe costs for as long as its container lives: the readiness
  // wait alone. The read, its buffer and its entries live in read_once's frame, for one read.
  for (;;) {
    auto ready = co_await reactor::poll(stream.pipe, POLLIN).with_stop(stop);
    if (!ready) break;  // the keeper is stopping: what is pending is flushed below
    const bool more = co_await read_once(stream);
    if (!more) break;
  }
  std::vector<LogEntry> entries;
  stream.splitter.finish(entries);
  write(stream, entries);
  release(stream);
}

reactor::Task<bool> KeeperLogs::read_once(Stream& stream) {
  // One read per readiness: it cannot wait (the pipe has data, or its writers are gone, and
  // nobody else reads it), so the buffer, taken from the pool, is back at once. What one read
  // leaves behind makes the next poll ready at once. (A second read could wait: the ring waits
  // on pipes even when O_NONBLOCK is set, holding its buffer.)
  std::vector<LogEntry> entries;
  auto buffer = take_buffer();
  auto n = co_await reactor::read(stream.pipe, buffer.get(), kBufferSize);
  bool more = true;
  if (n && *n > 0)
    stream.splitter.feed(std::string_view(buffer.get(), *n), entries);
  else
    more = !n && (n.error().value() == EAGAIN || n.error().value() == EINTR);
  give_back(std::move(buffer));
  write(stream, entries);
  co_return more;
}

void KeeperLogs::release(Stream& stream) {
  auto target = stream.target;
  table_->release(stream.pipe);
  streams_.erase(stream.self);
  if (--target->second.streams == 0) targets_.erase(target);
}

}  // namespace corrald
