#include "spawn_corrald.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "init/unique_fd.hpp"

extern char** environ;

namespace corrald {

using namespace corral;

Expected<pid_t> spawn_corrald(const std::string& exe, const std::vector<std::string>& args,
                              std::span<const PassedFd> passed, const std::string& cwd,
                              const std::vector<std::string>* env, bool new_session) {
  // Copies above every target first: a source that is also another's target (our fd 3 to be
  // their fd 4, our fd 4 to be their 3) would otherwise be overwritten before it is copied.
  std::vector<init::UniqueFd> sources;
  for (const PassedFd& fd : passed) {
    sources.emplace_back(::fcntl(fd.from, F_DUPFD_CLOEXEC, 64));
    if (!sources.back().valid())
      return fail(Error::from_errno(
          errno, "start " + exe + ": copy descriptor " + std::to_string(fd.from)));
  }
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = env ? *env : std::vector<std::string>{};
  std::vector<char*> envp;
  for (auto& variable : env_storage) envp.push_back(variable.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (std::size_t i = 0; i < passed.size(); ++i)  // dup2 clears close-on-exec on the copy
    posix_spawn_file_actions_adddup2(&actions, sources[i].get(), passed[i].to);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attributes, flags);
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, &attributes, argv.data(),
                              env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return fail(Error::from_errno(spawned, "start " + exe));
  return pid;
}

std::string own_executable() {
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  return ec ? "/proc/self/exe" : self;
}

}  // namespace corrald
