#include "apps/corral/file_text.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

namespace corral::cli {
namespace {

Error too_large(const std::string& name) {
  return Error(ErrorCode::SystemError,
               fmt::format("{}: larger than the {} bytes allowed", name, kMaxInputFileSize));
}

}  // namespace

Expected<std::string> read_text_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "open", path));
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return fail(Error::from_errno(e, "read", path));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxInputFileSize) {
      ::close(fd);
      return fail(too_large(path));
    }
  }
  ::close(fd);
  return text;
}

Expected<std::string> read_stream(std::istream& in, const std::string& name) {
  std::string text;
  char buffer[16 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxInputFileSize) return fail(too_large(name));
  }
  if (in.bad()) {
    return fail(Error(ErrorCode::SystemError, fmt::format("{}: read failed", name)));
  }
  return text;
}

}  // namespace corral::cli
