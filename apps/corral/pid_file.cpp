#include "apps/corral/pid_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace corral::cli {

Expected<void> write_pid_file(const std::string& path, pid_t pid) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(path);
  const std::string temp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp")).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Error::from_errno(errno, "write pid file: open", temp));
  const std::string text = std::to_string(pid);
  ssize_t written = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    ::unlink(temp.c_str());
    return fail(Error::from_errno(written < 0 ? saved : EIO, "write pid file: write", temp));
  }
  if (::rename(temp.c_str(), target.c_str()) < 0) {
    saved = errno;
    ::unlink(temp.c_str());
    return fail(Error::from_errno(saved, "write pid file: rename to " + target.string(), temp));
  }
  return {};
}

}  // namespace corral::cli
