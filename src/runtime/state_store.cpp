#include "runtime/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cerrno>

#include "reactor/linked_ops.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace corral {
namespace {

namespace rx = reactor;

// Unique per process and call, so concurrent writers (two CLI invocations, a daemon and a CLI)
// never share a temp file.
std::string temp_name() {
  static std::atomic<unsigned> counter{0};
  return fmt::format(".{}.{}.{}.tmp", kStateFileName, ::getpid(), counter++);
}

// The bytes of a state file become a ContainerState, or an error naming the file.
Expected<ContainerState> parse_state_text(const std::string& text, const std::string& path) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return fail(
        Error(ErrorCode::SystemError,
              fmt::format("{}: corrupt or truncated state file ({} bytes are not valid JSON)", path,
                          text.size()),
              ErrorCause{0, "parse state", path}));
  }
  return ContainerState::from_json(parsed, path);
}

Error missing_state(const std::string& id, const std::string& path) {
  return Error(ErrorCode::ContainerNotExists, fmt::format("container {} does not exist", id),
               ErrorCause{ENOENT, "open", path});
}

Error oversized_state(const std::string& path) {
  return Error(
      ErrorCode::SystemError,
      fmt::format("{}: larger than {} bytes: not a state file", path, StateStore::kMaxStateSize),
      ErrorCause{0, "read", path});
}

// Closes a descriptor through the reactor on every path out of a coroutine.
rx::Task<void> close_quietly(int fd) {
  if (fd >= 0) (void)co_await rx::close(fd);
}

}  // namespace

StateStore::StateStore(std::string root) : root_(std::move(root)) {}

std::string StateStore::container_dir(const std::string& id) const {
  return root_ + "/" + id;
}

std::string StateStore::state_path(const std::string& id) const {
  return container_dir(id) + "/" + kStateFileName;
}

// The blocking API runs the same steps as the async one with plain system calls: it serves
// the CLI, which has no loop to keep responsive, and may be called from any thread.
Expected<void> StateStore::save(const ContainerState& state) const {
  const std::string dir = container_dir(state.id);
  const std::string final_path = dir + "/" + kStateFileName;
  const std::string temp_path = dir + "/" + temp_name();
  const std::string text = state.to_json().dump();
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::from_errno(errno, "create", temp_path));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = n < 0 ? errno : (n != static_cast<ssize_t>(text.size()) ? EIO : 0);
  if (err == 0 && ::fsync(fd) < 0) err = errno;
  if (::close(fd) < 0 && err == 0) err = errno;
  if (err == 0 && ::rename(temp_path.c_str(), final_path.c_str()) < 0) err = errno;
  if (err != 0) {
    ::unlink(temp_path.c_str());
    return fail(Error::from_errno(err, "write, fsync and rename to " + final_path, temp_path));
  }
  int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return fail(Error::from_errno(errno, "open directory", dir));
  err = ::fsync(dirfd) < 0 ? errno : 0;
  ::close(dirfd);
  if (err != 0) return fail(Error::from_errno(err, "fsync directory", dir));
  return {};
}

Expected<ContainerState> StateStore::load(const std::string& id) const {
  const std::string path = state_path(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail(missing_state(id, path));
    return fail(Error::from_errno(errno, "open", path));
  }
  std::string text;
  char chunk[16384];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > kMaxStateSize) break;
  }
  int err = n < 0 ? errno : 0;
  ::close(fd);
  if (err != 0) return fail(Error::from_errno(err, "read", path));
  if (text.size() > kMaxStateSize) return fail(oversized_state(path));
  return parse_state_text(text, path);
}

rx::Task<Expected<void>> StateStore::save_async(const ContainerState& state, bool sync) const {
  const std::string dir = container_dir(state.id);
  const std::string final_path = dir + "/" + kStateFileName;
  const std::string temp_path = dir + "/" + temp_name();
  const std::string text = state.to_json().dump();

  // 1. Write the new content to a temp file beside the old one, and make it durable (sync).
  auto fd = co_await rx::openat(AT_FDCWD, temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!fd) co_return fail(Error::from_errno(fd.error().value(), "create", temp_path));
  // Without sync (the caller journals the change), a plain write.
  int err = 0;
  if (sync) {
    auto w = co_await rx::write_then_fsync(*fd, text.data(), text.size());
    if (!w) err = w.error().value();
  } else {
    auto w = co_await rx::write(*fd, text.data(), text.size());
    if (!w)
      err = w.error().value();
    else if (*w != text.size())
      err = EIO;
  }
  auto closed = co_await rx::close(*fd);
  if (err == 0 && !closed) err = closed.error().value();
  if (err != 0) {
    (void)co_await rx::unlinkat(AT_FDCWD, temp_path.c_str());
    co_return fail(Error::from_errno(err, sync ? "write and fsync" : "write", temp_path));
  }
  // 2. Atomically replace state.json: readers see the old file or the new one, never a mix.
  auto renamed = co_await rx::renameat(AT_FDCWD, temp_path.c_str(), AT_FDCWD, final_path.c_str());
  if (!renamed) {
    (void)co_await rx::unlinkat(AT_FDCWD, temp_path.c_str());
    co_return fail(
        Error::from_errno(renamed.error().value(), "rename to " + final_path, temp_path));
  }
  if (!sync) co_return Expected<void>{};
  // 3. Make the rename itself durable: fsync the directory that holds the entry.
  auto dirfd = co_await rx::openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (!dirfd) co_return fail(Error::from_errno(dirfd.error().value(), "open directory", dir));
  auto synced = co_await rx::fsync(*dirfd);
  co_await close_quietly(*dirfd);
  if (!synced) co_return fail(Error::from_errno(synced.error().value(), "fsync directory", dir));
  co_return Expected<void>{};
}

rx::Task<Expected<ContainerState>> StateStore::load_async(const std::string& id) const {
  const std::string path = state_path(id);
  auto fd = co_await rx::openat(AT_FDCWD, path.c_str(), O_RDONLY);
  if (!fd) {
    if (fd.error().value() == ENOENT) co_return fail(missing_state(id, path));
    co_return fail(Error::from_errno(fd.error().value(), "open", path));
  }
  std::string text;
  char chunk[16384];
  for (;;) {
    auto n = co_await rx::read(*fd, chunk, sizeof chunk, text.size());
    if (!n) {
      co_await close_quietly(*fd);
      co_return fail(Error::from_errno(n.error().value(), "read", path));
    }
    if (*n == 0) break;
    text.append(chunk, *n);
    if (text.size() > kMaxStateSize) {
      co_await close_quietly(*fd);
      co_return fail(oversized_state(path));
    }
  }
  co_await close_quietly(*fd);
  co_return parse_state_text(text, path);
}

}  // namespace corral
