#include "init/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "init/in_root.hpp"
#include "init/mounts.hpp"
#include "init/setup_error.hpp"
#include "init/unique_fd.hpp"

namespace corral::init {

namespace {

std::vector<Device> default_devices() {
  auto node = [](const char* path, int major, int minor) {
    Device d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {node("/dev/null", 1, 3),   node("/dev/zero", 1, 5),    node("/dev/full", 1, 7),
          node("/dev/random", 1, 8), node("/dev/urandom", 1, 9), node("/dev/tty", 5, 0)};
}

mode_t node_type(char type) {
  switch (type) {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      return S_IFCHR;  // 'c' and 'u' (unbuffered character device)
  }
}

Expected<void> create_node(int root_fd, const Device& d) {
  std::string step = "create device " + d.path;
  int parent = mkdir_all_in_root(root_fd, parent_of(d.path));
  if (parent < 0) return fail(setup_error(-parent, step, "mkdir", parent_of(d.path)));
  UniqueFd dir(parent);
  std::string name = base_of(d.path);
  mode_t mode = d.file_mode.value_or(0666) & 07777;
  dev_t dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(dir.get(), name.c_str(), node_type(d.type) | mode, dev) < 0) {
    // The image may ship the node already (on a /dev that is not a fresh tmpfs): keep it.
    if (errno == EEXIST) return {};
    return fail(setup_error(errno, step, "mknod", d.path));
  }
  if (::fchmodat(dir.get(), name.c_str(), mode, 0) < 0)
    return fail(setup_error(errno, step, "chmod", d.path));
  if (::fchownat(dir.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0),
                 AT_SYMLINK_NOFOLLOW) < 0)
    return fail(setup_error(errno, step, "chown", d.path));
  return {};
}

Expected<void> bind_node(int root_fd, const Device& d) {
  std::string step = "bind device " + d.path;
  int target = create_target_in_root(root_fd, d.path, false);
  if (target < 0) return fail(setup_error(-target, step, "create", d.path));
  UniqueFd target_fd(target);
  if (::mount(d.path.c_str(), fd_path(target).c_str(), nullptr, MS_BIND, nullptr) < 0)
    return fail(setup_error(errno, step, "mount", d.path));
  return {};
}

Expected<void> link_in_dev(int dev_fd, const char* target, const char* name) {
  if (::symlinkat(target, dev_fd, name) < 0 && errno != EEXIST)
    return fail(setup_error(errno, std::string("symlink /dev/") + name + " to " + target, "symlink",
                            std::string("/dev/") + name));
  return {};
}

}  // namespace

Expected<void> setup_dev(int root_fd, const Config& config, bool in_user_ns) {
  bool devpts = false;
  for (const auto& m : config.mounts) {
    if (m.destination == "/dev" && is_bind_mount(m)) return {};
    if (m.destination == "/dev/pts" && m.type == "devpts") devpts = true;
  }
  std::vector<Device> devices = config.linux_spec.devices;
  for (auto& d : default_devices()) {
    bool overridden = false;
    for (const auto& configured : devices) overridden |= configured.path == d.path;
    if (!overridden) devices.push_back(std::move(d));
  }
  for (const auto& d : devices) {
    auto made = in_user_ns ? bind_node(root_fd, d) : create_node(root_fd, d);
    if (!made) return made;
  }

  int dev = mkdir_all_in_root(root_fd, "/dev");
  if (dev < 0) return fail(setup_error(-dev, "create /dev", "mkdir", "/dev"));
  UniqueFd dev_fd(dev);
  static constexpr const char* kLinks[][2] = {{"/proc/self/fd", "fd"},
                                              {"/proc/self/fd/0", "stdin"},
                                              {"/proc/self/fd/1", "stdout"},
                                              {"/proc/self/fd/2", "stderr"}};
  for (const auto& link : kLinks) {
    auto linked = link_in_dev(dev, link[0], link[1]);
    if (!linked) return linked;
  }
  if (devpts) {
    // With a private devpts instance, /dev/ptmx must be that instance's ptmx.
    if (::unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
      return fail(setup_error(errno, "remove /dev/ptmx", "unlink", "/dev/ptmx"));
    auto linked = link_in_dev(dev, "pts/ptmx", "ptmx");
    if (!linked) return linked;
  }
  int shm = mkdir_all_in_root(root_fd, "/dev/shm", 01777);
  if (shm < 0) return fail(setup_error(-shm, "create /dev/shm", "mkdir", "/dev/shm"));
  ::close(shm);
  return {};
}

}  // namespace corral::init
