#include "namespaced_children.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::bench {

namespace {

struct ChildSetup {
  const char* rootfs;
  int report_fd;  // the child writes its errno here if it fails; closed on success
};

// In the child (a copy of the parent's memory, no exec): only async-signal-safe calls.
int child_main(void* arg) {
  const auto* setup = static_cast<const ChildSetup*>(arg);
  auto fail = [&](int step) {
    int what[2] = {step, errno};
    [[maybe_unused]] ssize_t w = ::write(setup->report_fd, what, sizeof what);
    ::_exit(1);
  };
  // Only SIGKILL ends these (they are PID-namespace inits): should the worker die before it
  // sends it, the kernel does.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(0);
  // Nothing of the parent's: only the report pipe stays open.
  ::close_range(0, static_cast<unsigned>(setup->report_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(setup->report_fd) + 1, ~0U, 0);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail(1);
  if (::mount(setup->rootfs, setup->rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) fail(2);
  if (::chdir(setup->rootfs) < 0) fail(3);
  if (::syscall(SYS_pivot_root, ".", ".") < 0) fail(4);
  if (::umount2(".", MNT_DETACH) < 0) fail(5);
  if (::chdir("/") < 0) fail(6);
  struct Mount {
    const char *source, *target, *type;
    unsigned long flags;
    const char* data;
  };
  const Mount mounts[] = {
      {"proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
      {"tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666"},
      {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
      {"mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
      {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, nullptr},
  };
  int step = 10;
  for (const Mount& m : mounts) {
    ::mkdir(m.target, 0755);  // the ones under the fresh /dev
    if (::mount(m.source, m.target, m.type, m.flags, m.data) < 0) fail(step);
    ++step;
  }
  ::close(setup->report_fd);
  for (;;) ::pause();
}

}  // namespace

std::vector<pid_t> start_namespaced_children(int n, const std::string& rootfs, std::string& error) {
  constexpr std::size_t kStack = 64 * 1024;
  alignas(16) static char stack[kStack];  // each child runs on its own copy (no CLONE_VM)
  std::vector<pid_t> pids;
  pids.reserve(n);
  const int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
  for (int i = 0; i < n; ++i) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) < 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      break;
    }
    ChildSetup setup{rootfs.c_str(), report[1]};
    pid_t pid = ::clone(child_main, stack + kStack, flags | SIGCHLD, &setup);
    ::close(report[1]);
    if (pid < 0) {
      error = std::string("clone: ") + std::strerror(errno);
      ::close(report[0]);
      break;
    }
    // Ready once the child closed its end (its mounts are made), or failed.
    int what[2] = {0, 0};
    ssize_t got = ::read(report[0], what, sizeof what);
    ::close(report[0]);
    if (got == static_cast<ssize_t>(sizeof what)) {
      error = "namespaced child: step " + std::to_string(what[0]) + ": " + std::strerror(what[1]);
      ::waitpid(pid, nullptr, 0);
      break;
    }
    pids.push_back(pid);
  }
  return pids;
}

}  // namespace corral::bench
