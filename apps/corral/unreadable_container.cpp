#include "apps/corral/unreadable_container.hpp"

#include <sys/stat.h>

#include <csignal>
#include <filesystem>

#include <fmt/format.h>

#include "runtime/cgroups/manager.hpp"

namespace corral::cli {

bool container_dir_exists(const std::string& root, const std::string& id) {
  struct stat st {};
  return ::lstat((root + "/" + id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Error explain_load_failure(const std::string& root, const std::string& id, Error load_error) {
  if (load_error.code() == ErrorCode::InvalidIdFormat || !container_dir_exists(root, id))
    return load_error;
  const std::string hint = fmt::format("`corral delete --force {}` removes what is left of it", id);
  if (load_error.code() == ErrorCode::ContainerNotExists)
    return Error(ErrorCode::SystemError,
                 fmt::format("container {} has no state.json in {}/{}: its creation was "
                             "interrupted (or is still under way); {}",
                             id, root, id, hint),
                 load_error.cause());
  return Error(load_error.code(),
               fmt::format("container {} cannot be loaded: {}; {}", id, load_error.what(), hint),
               load_error.cause());
}

Expected<void> remove_unreadable_container(const std::string& root, const std::string& id,
                                           const std::string& cgroup_parent, Logger& log) {
  std::optional<Error> first_failure;
  auto note = [&](Error e) {
    log.error(e.what());
    if (!first_failure) first_failure = std::move(e);
  };
  cgroups::CgroupSpec spec;
  spec.container_id = id;
  spec.parent = cgroup_parent;
  if (auto manager = cgroups::open_manager(spec); !manager) {
    note(std::move(manager).error().with_context("delete container " + id + ": find its cgroup"));
  } else {
    // On a group that was never made (or only partly) these fail: nothing to kill there.
    (void)(*manager)->kill_all(SIGKILL);
    (void)(*manager)->thaw();  // a frozen process never acts on its SIGKILL
    // destroy() waits (bounded) for the killed processes to leave the group.
    if (auto destroyed = (*manager)->destroy(); !destroyed)
      note(std::move(destroyed).error().with_context("delete container " + id +
                                                     ": remove its cgroup"));
  }
  std::error_code ec;
  const std::string dir = root + "/" + id;
  std::filesystem::remove_all(dir, ec);
  if (ec) note(Error::from_errno(ec.value(), "delete container " + id + ": remove", dir));
  if (first_failure) return fail(std::move(*first_failure));
  return {};
}

}  // namespace corral::cli
