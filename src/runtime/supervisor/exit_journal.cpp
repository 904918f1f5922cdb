#include "runtime/supervisor/exit_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <utility>

namespace corral::supervisor {

namespace {

constexpr std::uint64_t kCompactAbove = 1 << 20;  // bytes of mostly acknowledged records

Expected<void> write_journal_text(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "exit journal: write", path));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

ExitJournal::ExitJournal(ExitJournal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      next_seq_(other.next_seq_),
      bytes_(other.bytes_),
      pending_(std::move(other.pending_)) {}

ExitJournal& ExitJournal::operator=(ExitJournal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    next_seq_ = other.next_seq_;
    bytes_ = other.bytes_;
    pending_ = std::move(other.pending_);
  }
  return *this;
}

ExitJournal::~ExitJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<ExitJournal> ExitJournal::open(std::string path) {
  ExitJournal journal;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;  // a torn last line
      auto record = ReapedExit::from_json(j, path);
      if (!record) continue;
      journal.next_seq_ = std::max(journal.next_seq_, record->seq + 1);
      journal.pending_[record->seq] = *record;
    }
  }
  journal.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (journal.fd_ < 0) return fail(Error::from_errno(errno, "exit journal: open", path));
  journal.path_ = std::move(path);
  // Start clean: the loaded records rewritten without any torn tail.
  if (auto compacted = journal.compact(); !compacted) return fail(compacted.error());
  return journal;
}

std::string ExitJournal::stage(std::vector<ReapedExit>& batch) {
  std::string text;
  for (ReapedExit& record : batch) {
    if (record.seq == 0) record.seq = next_seq_++;
    text += record.to_json().dump() + "\n";
  }
  return text;
}

void ExitJournal::appended(const std::vector<ReapedExit>& batch, std::size_t bytes) {
  bytes_ += bytes;
  for (const ReapedExit& record : batch) pending_[record.seq] = record;
}

Expected<void> ExitJournal::append(std::vector<ReapedExit>& batch) {
  if (batch.empty()) return {};
  std::string text = stage(batch);
  if (auto written = write_journal_text(fd_, text, path_); !written) return written;
  if (::fdatasync(fd_) < 0) return fail(Error::from_errno(errno, "exit journal: fdatasync", path_));
  appended(batch, text.size());
  return {};
}

Expected<void> ExitJournal::acknowledge(std::uint64_t seq) {
  if (pending_.erase(seq) == 0) return {};
  return after_acknowledge();
}

Expected<void> ExitJournal::acknowledge_through(std::uint64_t seq) {
  auto end = pending_.upper_bound(seq);
  if (end == pending_.begin()) return {};
  pending_.erase(pending_.begin(), end);
  return after_acknowledge();
}

Expected<void> ExitJournal::after_acknowledge() {
  if (pending_.empty()) {
    if (::ftruncate(fd_, 0) < 0)
      return fail(Error::from_errno(errno, "exit journal: truncate", path_));
    bytes_ = 0;
    return {};
  }
  if (bytes_ > kCompactAbove && pending_.size() * 256 < bytes_ / 4) return compact();
  return {};
}

Expected<void> ExitJournal::compact() {
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::from_errno(errno, "exit journal: open", temp));
  std::string text;
  for (const auto& [seq, record] : pending_) text += record.to_json().dump() + "\n";
  auto written = write_journal_text(fd, text, temp);
  if (written && ::fdatasync(fd) < 0)
    written = fail(Error::from_errno(errno, "exit journal: fdatasync", temp));
  ::close(fd);
  if (!written) return written;
  if (::rename(temp.c_str(), path_.c_str()) < 0)
    return fail(Error::from_errno(errno, "exit journal: rename", path_));
  int reopened = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (reopened < 0) return fail(Error::from_errno(errno, "exit journal: reopen", path_));
  ::close(fd_);
  fd_ = reopened;
  bytes_ = text.size();
  return {};
}

}  // namespace corral::supervisor
