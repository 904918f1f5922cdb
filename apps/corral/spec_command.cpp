// `corral spec`: writes the default config.json (default_spec.hpp) into the bundle directory.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "apps/corral/commands.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli {

Expected<void> run_spec(const CommandContext& context, const SpecOptions& options) {
  std::error_code ec;
  std::filesystem::path bundle =
      std::filesystem::absolute(options.bundle.empty() ? "." : options.bundle, ec);
  if (ec) {
    return fail(Error(ErrorCode::SystemError,
                      fmt::format("spec: bundle {}: {}", options.bundle, ec.message())));
  }
  const std::string path = (bundle / "config.json").lexically_normal().string();
  const std::string text = default_spec(options.rootless).dump(1, '\t') + "\n";

  // O_EXCL makes the check and the creation one step: an existing file is never overwritten.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST) {
    return fail(Error(ErrorCode::SystemError,
                      fmt::format("spec: File config.json exists. Remove it first ({})", path)));
  }
  if (fd < 0) return fail(Error::from_errno(errno, "spec: create", path));
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(path.c_str());  // a torn config.json would fail later, far from the cause
      return fail(Error::from_errno(e, "spec: write", path));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(path.c_str());
    return fail(Error::from_errno(e, "spec: close", path));
  }
  context.log.debug(fmt::format("spec: wrote {}", path));
  return {};
}

}  // namespace corral::cli
