#pragma once
// KeeperLogs: the keeper's side of log capture. Each container's stdout and stderr pipe is
// held as an io_uring direct descriptor (reactor::FileTable: 20,000 pipes for 10,000
// containers do not fit in the fd table, whose hard limit here is 20,000), read on the ring (a
// readiness poll, then non-blocking reads into a buffer taken from a small pool, so a quiet
// pipe costs no buffer) and cut into CRI entries appended to the container's log file.
// A stream waits through a HeldCallbackOp, not a coroutine: at 10,000 containers a pump's
// coroutine frame (~800 bytes) per pipe was the keeper's largest cost.
// Log files are opened on demand: once more than max_open_files logs exist, a file is closed
// after each batch and reopened by the next one, which keeps the descriptor count flat.
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "init/unique_fd.hpp"
#include "reactor/file_table.hpp"
#include "reactor/held_callback_op.hpp"
#include "reactor/task.hpp"
#include "runtime/supervisor/cri_log.hpp"
#include "runtime/supervisor/notifier.hpp"

namespace corrald {

class KeeperLogs {
 public:
  explicit KeeperLogs(std::size_t max_open_files = 256) : max_open_files_(max_open_files) {}

  // Registers the direct-descriptor table (on the reactor's thread, before any capture); its
  // description (size, or why pipes stay ordinary fds) goes to `description`.
  corral::Expected<void> open_table(unsigned capacity, std::string& description);

  // Reads `out` and `err` into the log at `path` until each reaches end of file (every writer
  // gone) or stop() is called.
  void capture(const std::string& id, const std::string& path,
               corral::supervisor::LogRotation rotation, std::size_t max_line,
               corral::init::UniqueFd out, corral::init::UniqueFd err);
  // Ends every stream now: what each has read is written, what its pipe still holds is not read.
  // A capture after it reads nothing (its pipes are closed).
  void stop();
  // Returns once no stream is left (each at its pipe's end, or stopped): before the reactor and
  // this object go, since the streams' operations point into it.
  corral::reactor::Task<void> ended();

  std::size_t streams() const { return streams_.size(); }
  std::size_t direct_pipes() const { return table_ ? table_->direct_count() : 0; }
  std::size_t logs() const { return targets_.size(); }

 private:
  struct Target {
    std::string id;
    corral::supervisor::LogWriter writer;
    unsigned streams = 0;
  };
  // Waits for its pipe to be readable (a poll, no buffer), then reads once into a buffer from the
  // pool, which is back as soon as the read completes; and again, until the pipe's end.
  struct Stream {
    KeeperLogs* logs;
    std::map<std::string, Target>::iterator target;
    corral::reactor::HeldFile pipe;
    corral::supervisor::CriLineSplitter splitter;
    std::list<Stream>::iterator self{};  // for O(1) removal
    corral::reactor::HeldCallbackOp op;  // the poll or the read in flight
    std::unique_ptr<char[]> buffer;      // only while a read is in flight
    bool stopping = false;
  };

  void wait_readable(Stream& stream);
  static void on_readable(void* stream, int result);
  static void on_read(void* stream, int result);
  // Writes what the stream still holds and releases it (the Stream is gone after).
  void end(Stream& stream);
  void write(Stream& stream, std::vector<corral::supervisor::LogEntry>& entries);

  std::unique_ptr<char[]> take_buffer();
  void give_back(std::unique_ptr<char[]> buffer);

  static constexpr std::size_t kBufferSize = 64 * 1024;
  std::optional<corral::reactor::FileTable> table_;
  std::vector<std::unique_ptr<char[]>> free_buffers_;
  std::size_t max_open_files_;
  std::map<std::string, Target> targets_;  // by log path: a restarted container's new pipes
                                           // write to the same file as its old ones
  std::list<Stream> streams_;
  bool stopped_ = false;
  std::vector<corral::supervisor::LogEntry> entries_;  // scratch for one read's entries
  corral::supervisor::Notifier all_ended_;
};

}  // namespace corrald
