#pragma once
// TEST ONLY: a throwaway directory holding a busybox rootfs built from the host's
// busybox-static (/bin/busybox), and a Config that runs a command in it.
#include <string>
#include <vector>

#include "runtime/spec/config.hpp"

namespace corral::testing {

class BusyboxRootfs {
 public:
  BusyboxRootfs();  // fails the current test (ADD_FAILURE) if it cannot be built
  ~BusyboxRootfs();
  BusyboxRootfs(const BusyboxRootfs&) = delete;
  BusyboxRootfs& operator=(const BusyboxRootfs&) = delete;

  const std::string& work_dir() const { return work_dir_; }  // holds rootfs/ and scratch files
  const std::string& rootfs() const { return rootfs_; }

  // A container running `args` as root with the usual OCI default mounts and namespaces.
  Config config(std::vector<std::string> args) const;

 private:
  std::string work_dir_;
  std::string rootfs_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace corral::testing
