#include "runtime/thread_namespaces.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace corral {

namespace {

const char* ns_name_of_flag(int type) {
  switch (type) {
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time_for_children";
    case CLONE_NEWPID:
      return "pid_for_children";
  }
  return nullptr;
}

}  // namespace

Expected<int> namespace_type(int fd, const std::string& path) {
  int type = ::ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return fail(Error::from_errno(errno, "namespace type of", path));
  return type;
}

Expected<void> ThreadNamespaces::enter(int fd, int type, const std::string& path) {
  const char* name = ns_name_of_flag(type);
  if (!name)
    return fail(Error(ErrorCode::Unsupported,
                      "join namespace " + path + " together with a new user namespace"));
  std::string own_path = std::string("/proc/thread-self/ns/") + name;
  int own = ::open(own_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (own < 0) return fail(Error::from_errno(errno, "open", own_path));
  if (::setns(fd, type) < 0) {
    int err = errno;
    ::close(own);
    return fail(Error::from_errno(err, "setns", path));
  }
  saved_.push_back({own, type});
  return {};
}

void ThreadNamespaces::leave() {
  // Our own namespaces are always valid targets: this cannot fail short of a kernel bug, and
  // a reactor thread left in a container's namespace must not go on.
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    if (::setns(it->first, it->second) < 0) std::abort();
    ::close(it->first);
  }
  saved_.clear();
}

}  // namespace corral
