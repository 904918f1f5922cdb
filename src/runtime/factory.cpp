#include "runtime/factory.hpp"
#include "runtime/recorded_config.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>

#include "runtime/hooks.hpp"
#include "runtime/proc_stat.hpp"
#include "runtime/spec/validator.hpp"

namespace corral {

namespace {

bool id_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '.' || c == '-';
}

std::string printable(std::string_view id) {
  std::string out;
  for (char c : id) {
    if (c == '\0')
      out += "\\0";
    else
      out += c;
  }
  return out;
}

bool is_mount_point(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &st) < 0) return false;
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

}  // namespace

std::string default_init_path(const std::string& executable) {
  std::error_code ec;
  std::filesystem::path exe = executable.empty()
                                  ? std::filesystem::read_symlink("/proc/self/exe", ec)
                                  : std::filesystem::path(executable);
  std::filesystem::path dir = exe.parent_path();
  // Installed side by side, or a build tree (apps/ or tests/ next to src/init/).
  for (const auto& candidate : {dir / "corral-init", dir.parent_path() / "src/init/corral-init",
                                dir.parent_path().parent_path() / "src/init/corral-init"})
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  return (dir / "corral-init").string();
}

Expected<void> Factory::validate_id(std::string_view id) {
  auto bad = [&](const std::string& why) {
    return fail(Error(ErrorCode::InvalidIdFormat,
                      "invalid container id \"" + printable(id) + "\": " + why));
  };
  if (id.empty()) return bad("it is empty");
  if (id.size() > 255)
    return bad("it is " + std::to_string(id.size()) + " bytes, at most 255 allowed");
  if (id == "." || id == "..") return bad("it names a directory entry, not a container");
  for (char c : id)
    if (!id_char_ok(c))
      return bad(std::string("only letters, digits and _+.- are allowed, not ") +
                 (c == '\0'  ? "NUL"
                  : c == '/' ? "'/'"
                             : "'" + std::string(1, c) + "'"));
  return {};
}

Expected<Factory> Factory::create(std::string root, FactoryOptions options) {
  if (root.empty()) return fail(Error(ErrorCode::ConfigInvalid, "factory: invalid root: empty"));
  if (options.cgroup_driver == "systemd")
    return fail(
        Error(ErrorCode::Unsupported,
              "factory " + root + ": the systemd cgroup driver is not supported (use cgroupfs)"));
  if (options.cgroup_driver != "cgroupfs")
    return fail(Error(ErrorCode::ConfigInvalid, "factory " + root + ": unknown cgroup driver \"" +
                                                    options.cgroup_driver + "\""));
  if (!options.criu_path.empty())
    return fail(Error(ErrorCode::Unsupported, "factory " + root + ": criu " + options.criu_path +
                                                  ": checkpoint/restore is not supported"));
  std::error_code ec;
  root = std::filesystem::absolute(root, ec).lexically_normal().string();
  if (root.size() > 1 && root.back() == '/') root.pop_back();
  // Engines name a root below directories that may not exist yet (containerd's shim:
  // /run/containerd/runc/NAMESPACE), as runc makes them all.
  std::filesystem::create_directories(std::filesystem::path(root).parent_path(), ec);
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST)
    return fail(Error::from_errno(errno, "factory: mkdir root", root));
  if (::chmod(root.c_str(), 0700) < 0)
    return fail(Error::from_errno(errno, "factory: chmod root", root));
  if (options.tmpfs_root && !is_mount_point(root) &&
      ::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return fail(Error::from_errno(errno, "factory: mount tmpfs on the root", root));

  ContainerSettings settings;
  settings.cgroup_parent = options.cgroup_parent;
  settings.setup_timeout = options.setup_timeout;
  if (options.init_self) {
    settings.init_path = "/proc/self/exe";
    settings.init_argv = {"/proc/self/exe", "init"};
  } else {
    settings.init_path = options.init_path.empty() ? default_init_path() : options.init_path;
    if (::access(settings.init_path.c_str(), X_OK) < 0)
      return fail(Error::from_errno(errno, "factory: the init binary", settings.init_path));
    settings.init_argv = {settings.init_path};
  }
  for (const auto& a : options.init_args) settings.init_argv.push_back(a);
  return Factory(StateStore(root), std::move(settings));
}

Expected<std::unique_ptr<Container>> Factory::create_container(const std::string& id,
                                                               Config config) {
  if (root().empty()) return fail(Error(ErrorCode::ConfigInvalid, "invalid root"));
  if (auto ok = validate_id(id); !ok) return fail(std::move(ok).error());
  if (auto ok = validate_config(config); !ok)
    return fail(std::move(ok).error().with_context("create container " + id));
  std::string dir = home_->store.container_dir(id);
  if (::mkdir(dir.c_str(), 0700) < 0) {
    if (errno == EEXIST)
      return fail(Error(ErrorCode::IdInUse, "container " + id + " already exists",
                        ErrorCause{EEXIST, "mkdir", dir}));
    return fail(Error::from_errno(errno, "create container " + id + ": mkdir", dir));
  }
  ContainerState state;
  state.id = id;
  state.bundle = config.bundle;
  state.rootfs = config.root.path;
  state.status = ContainerStatus::Creating;
  state.annotations = config.annotations;
  return std::make_unique<Container>(home_, std::move(state), std::move(config), nullptr, -1);
}

Expected<std::unique_ptr<Container>> Factory::load(const std::string& id) {
  if (root().empty()) return fail(Error(ErrorCode::ConfigInvalid, "invalid root"));
  if (auto ok = validate_id(id); !ok) return fail(std::move(ok).error());
  auto state = home_->store.load(id);
  if (!state) return fail(std::move(state).error());
  std::string source = home_->store.state_path(id);

  Config config;
  if (has_recorded_config(state->config)) {
    auto recorded = config_from_record(state->config, id, source);
    if (!recorded) return fail(std::move(recorded).error());
    config = std::move(*recorded);
  }

  // The init is ours to address only if the pid still names the process we started: open a
  // pidfd first, then check the start time (a pidfd cannot be redirected to a later process).
  int pidfd = -1;
  if (state->init_pid > 0 && state->status != ContainerStatus::Stopped) {
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, state->init_pid, 0));
    if (pidfd >= 0 && !process_matches(state->init_pid, state->init_start_time)) {
      ::close(pidfd);
      pidfd = -1;
    }
  }
  if (pidfd < 0) state->status = ContainerStatus::Stopped;

  std::unique_ptr<cgroups::Manager> manager;
  if (!state->cgroup_paths.empty()) {
    auto opened = cgroups::open_manager_from_paths(state->cgroup_paths);
    if (!opened) {
      if (pidfd >= 0) ::close(pidfd);
      return fail(std::move(opened).error().with_context("load container " + id));
    }
    manager = std::move(*opened);
  }
  return std::make_unique<Container>(home_, std::move(*state), std::move(config),
                                     std::move(manager), pidfd);
}

}  // namespace corral
