#include "init/process_settings.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "init/proc_files.hpp"
#include "init/setup_error.hpp"
#include "init/unique_fd.hpp"

namespace corral::init {

namespace {

Expected<void> write_file(const std::string& path, const std::string& value,
                          const std::string& step) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd.valid()) return fail(setup_error(errno, step, "open", path));
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return fail(setup_error(errno, step, "write", path));
  return {};
}

Expected<cap_value_t> capability_value(const std::string& name) {
  cap_value_t value;
  if (cap_from_name(name.c_str(), &value) < 0)
    return fail(setup_failure("capabilities: unknown capability \"" + name + "\""));
  return value;
}

Expected<void> set_flags(cap_t caps, cap_flag_t flag, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    auto value = capability_value(name);
    if (!value) return fail(std::move(value).error());
    cap_value_t v = *value;
    if (cap_set_flag(caps, flag, 1, &v, CAP_SET) < 0)
      return fail(setup_error(errno, "set capability " + name, "cap_set_flag", name));
  }
  return {};
}

}  // namespace

Expected<void> set_hostname_and_domainname(const Config& config) {
  if (!config.hostname.empty() && ::sethostname(config.hostname.data(), config.hostname.size()) < 0)
    return fail(
        setup_error(errno, "set hostname " + config.hostname, "sethostname", config.hostname));
  if (!config.domainname.empty() &&
      ::setdomainname(config.domainname.data(), config.domainname.size()) < 0)
    return fail(setup_error(errno, "set domainname " + config.domainname, "setdomainname",
                            config.domainname));
  return {};
}

Expected<void> apply_sysctls(const Config& config) {
  for (const auto& [key, value] : config.linux_spec.sysctl) {
    std::string path = "/proc/sys/";
    for (char c : key) path.push_back(c == '.' ? '/' : c);
    auto written = write_file(path, value, "set sysctl " + key + "=" + value);
    if (!written) return written;
  }
  return {};
}

Expected<void> apply_rlimits(const Process& process) {
  for (const auto& r : process.rlimits) {
    struct rlimit limit {
      static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)
    };
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &limit) < 0)
      return fail(setup_error(errno, "set rlimit " + r.name, "setrlimit", r.name));
  }
  return {};
}

Expected<void> apply_oom_score_adj(const Process& process) {
  if (!process.oom_score_adj) return {};
  return write_file("/proc/self/oom_score_adj", std::to_string(*process.oom_score_adj),
                    "set oom_score_adj " + std::to_string(*process.oom_score_adj));
}

void reset_signals() {
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &action, nullptr);  // EINVAL for the libc-reserved ones: nothing to reset
  }
}

Expected<void> drop_bounding_set(const Capabilities& caps) {
  std::vector<bool> keep(static_cast<std::size_t>(cap_max_bits()), false);
  for (const auto& name : caps.bounding) {
    auto value = capability_value(name);
    if (!value) return fail(std::move(value).error());
    if (static_cast<std::size_t>(*value) < keep.size()) keep[*value] = true;
  }
  for (std::size_t v = 0; v < keep.size(); ++v) {
    if (keep[v]) continue;
    if (cap_drop_bound(static_cast<cap_value_t>(v)) < 0 && errno != EINVAL) {
      char* name = cap_to_name(static_cast<cap_value_t>(v));
      std::string n = name ? name : std::to_string(v);
      cap_free(name);
      return fail(setup_error(errno, "drop capability " + n + " from the bounding set",
                              "prctl(PR_CAPBSET_DROP)", n));
    }
  }
  return {};
}

Expected<void> switch_user(const User& user, bool in_user_ns) {
  bool may_setgroups = true;
  if (in_user_ns) {
    std::string setgroups;
    if (read_whole_file("/proc/self/setgroups", setgroups) && setgroups.rfind("deny", 0) == 0)
      may_setgroups = false;
  }
  if (may_setgroups) {
    std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
    if (::setgroups(groups.size(), groups.data()) < 0)
      return fail(
          setup_error(errno, "setgroups for uid " + std::to_string(user.uid), "setgroups", {}));
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return fail(setup_error(errno, "keep capabilities across setuid", "prctl", {}));
  if (::setresgid(user.gid, user.gid, user.gid) < 0)
    return fail(setup_error(errno, "setgid " + std::to_string(user.gid), "setresgid", {}));
  if (::setresuid(user.uid, user.uid, user.uid) < 0)
    return fail(setup_error(errno, "setuid " + std::to_string(user.uid), "setresuid", {}));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return fail(setup_error(errno, "clear keep-capabilities", "prctl", {}));
  return {};
}

Expected<void> apply_capabilities(const Capabilities& caps) {
  cap_t set = cap_init();
  if (!set) return fail(setup_error(errno, "allocate capability set", "cap_init", {}));
  auto filled = set_flags(set, CAP_EFFECTIVE, caps.effective);
  if (filled) filled = set_flags(set, CAP_PERMITTED, caps.permitted);
  if (filled) filled = set_flags(set, CAP_INHERITABLE, caps.inheritable);
  if (filled && cap_set_proc(set) < 0)
    filled = fail(setup_error(errno, "set process capabilities", "capset", {}));
  cap_free(set);
  if (!filled) return filled;
  if (cap_reset_ambient() < 0 && errno != EINVAL)
    return fail(setup_error(errno, "clear ambient capabilities", "prctl", {}));
  for (const auto& name : caps.ambient) {
    auto value = capability_value(name);
    if (!value) return fail(std::move(value).error());
    if (cap_set_ambient(*value, CAP_SET) < 0)
      return fail(setup_error(errno, "raise ambient capability " + name, "prctl", name));
  }
  return {};
}

Expected<void> set_no_new_privileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail(setup_error(errno, "set no_new_privs", "prctl", {}));
  return {};
}

}  // namespace corral::init
