#include "runtime/id_maps.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace corral {

namespace {

Expected<void> write_proc_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "open", path));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    std::string shown = text.substr(0, 64);
    for (char& c : shown)
      if (c == '\n') c = ';';
    return fail(Error::from_errno(n < 0 ? err : EIO, "write \"" + shown + "\" to", path));
  }
  return {};
}

}  // namespace

std::string id_map_text(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings)
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  return text;
}

bool maps_root(const std::vector<IdMapping>& mappings) {
  for (const auto& m : mappings)
    if (m.container_id == 0 && m.size > 0) return true;
  return false;
}

// The parent's part of a new user namespace. A writer without CAP_SETGID over the parent
// namespace may only write gid_map once setgroups is denied; root keeps setgroups allowed, so
// the container's processes can still have supplementary groups.
Expected<void> write_id_maps(pid_t pid, const std::vector<IdMapping>& uid_mappings,
                             const std::vector<IdMapping>& gid_mappings) {
  if (::geteuid() != 0)
    if (auto denied = write_proc_file(pid, "setgroups", "deny"); !denied) return denied;
  if (auto gids = write_proc_file(pid, "gid_map", id_map_text(gid_mappings)); !gids) return gids;
  return write_proc_file(pid, "uid_map", id_map_text(uid_mappings));
}

}  // namespace corral
