#pragma once
// TEST ONLY: a Factory on a throwaway root with a busybox rootfs, a per-test cgroup parent, and
// the counters that tell whether a test left anything behind (state dirs, cgroup dirs, children).
#include <dirent.h>
#include <unistd.h>
#include <cerrno>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "init/busybox_rootfs.hpp"
#include "runtime/factory.hpp"

namespace corral::testing {

inline int count_dir_entries(const std::string& dir) {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

// Children of this process, whatever thread forked them (/proc/self/task/*/children).
inline int count_own_children() {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    std::ifstream in(it->path() / "children");
    std::string pid;
    while (in >> pid) ++n;
  }
  return n;
}

class RealContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = rootfs_.work_dir() + "/state";
    FactoryOptions options;
    options.init_path = std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
    options.cgroup_parent = "/" + cgroup_parent_name();
    auto f = Factory::create(root_, options);
    ASSERT_TRUE(f) << f.error().what();
    factory_.emplace(std::move(*f));
  }
  void TearDown() override {
    // A killed container's last tasks may still be leaving its cgroup tree: retry EBUSY a while.
    for (const auto& dir : cgroup_parent_dirs())
      for (int attempt = 0; attempt < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++attempt)
        ::usleep(20'000);
  }

  std::string cgroup_parent_name() const { return "corral-test-" + std::to_string(::getpid()); }
  // The per-test cgroup parent in every hierarchy that has it.
  std::vector<std::string> cgroup_parent_dirs() const {
    std::vector<std::string> dirs;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/sys/fs/cgroup", ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      auto dir = it->path() / cgroup_parent_name();
      // An error code of its own: a hierarchy without the parent must not end the iteration.
      std::error_code missing;
      if (std::filesystem::is_directory(dir, missing)) dirs.push_back(dir.string());
    }
    return dirs;
  }
  // Container cgroups left under the parent, in every hierarchy.
  int leftover_cgroups() const {
    int n = 0;
    for (const auto& dir : cgroup_parent_dirs()) {
      std::error_code ec;
      for (auto it = std::filesystem::directory_iterator(dir, ec);
           !ec && it != std::filesystem::directory_iterator(); ++it)
        if (it->is_directory(ec)) ++n;
    }
    return n;
  }

  BusyboxRootfs rootfs_;
  std::string root_;
  std::optional<Factory> factory_;
};

}  // namespace corral::testing
