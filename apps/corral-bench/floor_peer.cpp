// The floor: what the kernel allows. One clone() into the same new namespaces as the bundle's
// config (pid, network, ipc, uts, mount), then bind the rootfs, pivot_root into it, mount /proc
// and exec /bin/true; the parent waits. No config, no state, no cgroups, no protocol: every
// runtime's time reads as a ratio to this.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apps/corral-bench/peers.hpp"

namespace corral::bench {

namespace {

// In the child: only system calls, no allocation (the parent may have threads).
[[noreturn]] void become_true(const char* rootfs) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) ::_exit(120);
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) ::_exit(121);
  if (::chdir(rootfs) < 0) ::_exit(122);
  if (::syscall(SYS_pivot_root, ".", ".") < 0) ::_exit(123);
  if (::umount2(".", MNT_DETACH) < 0) ::_exit(124);
  if (::chdir("/") < 0) ::_exit(125);
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr) < 0) ::_exit(126);
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* envp[] = {nullptr};
  ::execve("/bin/true", argv, envp);
  ::_exit(127);
}

class FloorPeer : public Peer {
 public:
  explicit FloorPeer(const PeerContext& context) : rootfs_(context.rootfs) {}

  std::string name() const override { return "floor"; }

  std::string run_once(const std::string&) override {
    const unsigned long flags =
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) return std::string("clone: ") + std::strerror(errno);
    if (pid == 0) become_true(rootfs_.c_str());
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return "floor child failed with status " + std::to_string(WEXITSTATUS(status)) +
             " (120-126: the setup step that failed)";
    return "";
  }

  bool supports_phases() const override { return false; }
  std::string run_phases(const std::string&, PhaseTimes&) override { return "no phases"; }
  bool supports_storm() const override { return false; }
  int start_detached(const std::vector<std::string>&, int, std::string&) override { return 0; }
  void remove(const std::vector<std::string>&, int) override {}
  bool supports_footprint() const override { return false; }
  std::optional<FootprintSample> footprint(const std::string&, const std::string&,
                                           std::string&) override {
    return std::nullopt;
  }

 private:
  std::string rootfs_;
};

}  // namespace

std::unique_ptr<Peer> make_floor_peer(const PeerContext& context) {
  return std::make_unique<FloorPeer>(context);
}

}  // namespace corral::bench
