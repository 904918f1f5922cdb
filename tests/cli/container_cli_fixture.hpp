#pragma once
// TEST ONLY: a fixture for end-to-end tests that run real containers with the corral binary:
// a busybox rootfs whose work dir is the bundle, a fresh --root, unique container ids that are
// force-deleted afterwards. The busybox rootfs helper itself is compiled once into test_cli
// (lifecycle_e2e_test.cpp includes its source).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/corral_process.hpp"
#include "cli/temp_dir.hpp"
#include "init/busybox_rootfs.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli::testing {

class ContainerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    ASSERT_FALSE(rootfs_.rootfs().empty());
  }
  void TearDown() override {
    for (const std::string& id : ids_) corral({"delete", "--force", id});
  }

  std::string make_id(const std::string& name) {
    ids_.push_back("cli-" + name + "-" + std::to_string(::getpid()));
    return ids_.back();
  }

  // Writes the bundle's config.json (corral spec's default) running `args`; `edit` may change
  // the rest of the spec.
  std::string bundle(const std::vector<std::string>& args,
                     const std::function<void(nlohmann::json&)>& edit = {}) {
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = args;
    spec["process"]["terminal"] = false;
    if (edit) edit(spec);
    corral::testing::write_file(rootfs_.work_dir() + "/config.json", spec.dump(2));
    return rootfs_.work_dir();
  }

  std::vector<std::string> with_root(const std::vector<std::string>& args) const {
    std::vector<std::string> full{"--root", root_.path()};
    full.insert(full.end(), args.begin(), args.end());
    return full;
  }

  Outcome corral(const std::vector<std::string>& args, const CorralOptions& options = {}) {
    return run_corral(with_root(args), options);
  }

  nlohmann::json state(const std::string& id) {
    Outcome o = corral({"state", id});
    if (o.status != 0) return nullptr;
    return nlohmann::json::parse(o.out, nullptr, false);
  }

  // state.json itself (what corral records beyond `corral state`).
  nlohmann::json state_file(const std::string& id) {
    return nlohmann::json::parse(corral::testing::read_file(root_.file(id + "/state.json")),
                                 nullptr, false);
  }

  // Polls until `ready` holds, a bounded number of times (not a timing assertion).
  static bool eventually(const std::function<bool()>& ready) {
    for (int i = 0; i < 400; ++i) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  corral::testing::BusyboxRootfs rootfs_;
  TempDir root_;
  std::vector<std::string> ids_;
};

}  // namespace corral::cli::testing
