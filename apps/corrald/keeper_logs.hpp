#pragma once
// KeeperLogs: the keeper's side of log capture. Each container's stdout and stderr pipe is
// held as an io_uring direct descriptor (reactor::FileTable: 20,000 pipes for 10,000
// containers do not fit in the fd table, whose hard limit here is 20,000), read on the ring (a
// readiness poll, then non-blocking reads into a buffer taken from a small pool, so a quiet
// pipe costs no buffer) and cut into CRI entries appended to the container's log file.
// Log files are opened on demand: once more than max_open_files logs exist, a file is closed
// after each batch and reopened by the next one, which keeps the descriptor count flat.
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "init/unique_fd.hpp"
#include "reactor/file_table.hpp"
#include "reactor/scope.hpp"
#include "reactor/task.hpp"
#include "runtime/supervisor/cri_log.hpp"

namespace corrald {

class KeeperLogs {
 public:
  explicit KeeperLogs(std::size_t max_open_files = 256) : max_open_files_(max_open_files) {}

  // Registers the direct-descriptor table (on the reactor's thread, before any capture); its
  // description (size, or why pipes stay ordinary fds) goes to `description`.
  corral::Expected<void> open_table(unsigned capacity, std::string& description);

  // Reads `out` and `err` into the log at `path` until each reaches end of file (every writer
  // gone) or `stop` is requested. The coroutines run in `scope`.
  void capture(const std::string& id, const std::string& path,
               corral::supervisor::LogRotation rotation, std::size_t max_line,
               corral::init::UniqueFd out, corral::init::UniqueFd err,
               corral::reactor::TaskScope& scope, std::stop_token stop);

  std::size_t streams() const { return streams_.size(); }
  std::size_t direct_pipes() const { return table_ ? table_->direct_count() : 0; }
  std::size_t logs() const { return targets_.size(); }

 private:
  struct Target {
    std::string id;
    corral::supervisor::LogWriter writer;
    unsigned streams = 0;
  };
  struct Stream {
    std::map<std::string, Target>::iterator target;
    corral::reactor::HeldFile pipe;
    corral::supervisor::CriLineSplitter splitter;
    std::list<Stream>::iterator self{};  // for O(1) removal
  };

  corral::reactor::Task<void> pump(Stream& stream, std::stop_token stop);
  // One read into the log; false at the pipe's end (or on its error).
  corral::reactor::Task<bool> read_once(Stream& stream);
  void write(Stream& stream, std::vector<corral::supervisor::LogEntry>& entries);
  void release(Stream& stream);

  std::unique_ptr<char[]> take_buffer();
  void give_back(std::unique_ptr<char[]> buffer);

  static constexpr std::size_t kBufferSize = 64 * 1024;
  std::optional<corral::reactor::FileTable> table_;
  std::vector<std::unique_ptr<char[]>> free_buffers_;
  std::size_t max_open_files_;
  std::map<std::string, Target> targets_;  // by log path: a restarted container's new pipes
                                           // write to the same file as its old ones
  std::list<Stream> streams_;
};

}  // namespace corrald
