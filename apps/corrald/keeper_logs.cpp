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
                         init::UniqueFd err) {
  if (stopped_) {  // the descriptors close here: the container's writes get EPIPE
    std::fprintf(stderr, "corrald-keeper: container %s: its output is not read: the keeper ends\n",
                 id.c_str());
    return;
  }
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
  Stream* added[2] = {nullptr, nullptr};
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
    Stream& stream =
        streams_.emplace_back(this, it, *held, supervisor::CriLineSplitter(kind, max_line));
    stream.self = std::prev(streams_.end());
    ++target.streams;
    added[kind == LogStream::Stdout ? 0 : 1] = &stream;
  }
  if (target.streams == 0) {
    targets_.erase(it);
    return;
  }
  // Started once both are counted: a stream that ends at once (wait_readable calls end()) must
  // not take the target with it while the other is being added.
  for (Stream* stream : added)
    if (stream != nullptr) wait_readable(*stream);
}

void KeeperLogs::stop() {
  stopped_ = true;
  for (Stream& stream : streams_) {
    stream.stopping = true;
    stream.op.cancel();
  }
}

reactor::Task<void> KeeperLogs::ended() {
  while (!streams_.empty()) co_await all_ended_.wait();
}

void KeeperLogs::wait_readable(Stream& stream) {
  if (stream.stopping ||
      !stream.op.start(reactor::poll(stream.pipe.descriptor(), POLLIN).operation(), stream.pipe,
                       &KeeperLogs::on_readable, &stream))
    end(stream);
}

void KeeperLogs::on_readable(void* context, int result) {
  Stream& stream = *static_cast<Stream*>(context);
  KeeperLogs& logs = *stream.logs;
  // Cancelled: the keeper is stopping, and what is pending is flushed by end().
  if (result < 0 || stream.stopping) return logs.end(stream);
  // One read per readiness: it cannot wait (the pipe has data, or its writers are gone, and
  // nobody else reads it), so the buffer, taken from the pool, is back at once. What one read
  // leaves behind makes the next poll ready at once. (A second read could wait: the ring waits
  // on pipes even when O_NONBLOCK is set, holding its buffer.)
  stream.buffer = logs.take_buffer();
  if (!stream.op.start(
          reactor::read(stream.pipe.descriptor(), stream.buffer.get(), kBufferSize).operation(),
          stream.pipe, &KeeperLogs::on_read, &stream)) {
    logs.give_back(std::move(stream.buffer));
    logs.end(stream);
  }
}

void KeeperLogs::on_read(void* context, int result) {
  Stream& stream = *static_cast<Stream*>(context);
  KeeperLogs& logs = *stream.logs;
  if (result > 0)
    stream.splitter.feed(std::string_view(stream.buffer.get(), static_cast<std::size_t>(result)),
                         logs.entries_);
  logs.give_back(std::move(stream.buffer));
  logs.write(stream, logs.entries_);
  const bool more = result > 0 || result == -EAGAIN || result == -EINTR;
  if (more)
    logs.wait_readable(stream);
  else
    logs.end(stream);  // the pipe's end, its error, or a cancel
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

void KeeperLogs::end(Stream& stream) {
  stream.splitter.finish(entries_);
  write(stream, entries_);
  auto target = stream.target;
  table_->release(stream.pipe);
  streams_.erase(stream.self);
  if (--target->second.streams == 0) targets_.erase(target);
  if (streams_.empty()) all_ended_.notify_all();
}

}  // namespace corrald
