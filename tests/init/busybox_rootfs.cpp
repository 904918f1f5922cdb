#include "busybox_rootfs.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace corral::testing {

namespace {

Mount make_mount(std::string destination, std::string type, std::string source, unsigned long flags,
                 std::string data = {}) {
  Mount m;
  m.destination = std::move(destination);
  m.type = std::move(type);
  m.source = std::move(source);
  m.flags = flags;
  m.data = std::move(data);
  return m;
}

}  // namespace

BusyboxRootfs::BusyboxRootfs() {
  char pattern[] = "/tmp/corral-init-test-XXXXXX";
  if (!::mkdtemp(pattern)) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  work_dir_ = pattern;
  rootfs_ = work_dir_ + "/rootfs";
  for (const char* dir : {"bin", "proc", "sys", "dev", "tmp", "etc", "mnt", "root"})
    fs::create_directories(rootfs_ + "/" + dir);
  fs::permissions(rootfs_ + "/tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
  for (const char* applet : {"sh", "true", "false", "echo", "cat", "ls", "mkdir", "hostname", "id",
                             "sleep", "touch", "test", "grep", "readlink", "stat", "env"})
    fs::create_symlink("busybox", rootfs_ + "/bin/" + applet);
  write_file(rootfs_ + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  write_file(rootfs_ + "/etc/group", "root:x:0:\n");
}

BusyboxRootfs::~BusyboxRootfs() {
  if (work_dir_.empty()) return;
  std::error_code ignored;
  fs::remove_all(work_dir_, ignored);
}

Config BusyboxRootfs::config(std::vector<std::string> args) const {
  Config c;
  c.oci_version = "1.0.2";
  c.bundle = work_dir_;
  c.root.path = rootfs_;
  c.hostname = "corral-test";
  Process p;
  p.args = std::move(args);
  p.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  c.process = std::move(p);
  c.mounts = {
      make_mount("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV),
      make_mount("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
      make_mount("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620"),
      make_mount("/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV,
                 "mode=1777,size=65536k"),
      make_mount("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV),
      make_mount("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY),
  };
  c.linux_spec.namespaces = {{NamespaceType::Pid, ""},
                             {NamespaceType::Mount, ""},
                             {NamespaceType::Uts, ""},
                             {NamespaceType::Ipc, ""}};
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

}  // namespace corral::testing
