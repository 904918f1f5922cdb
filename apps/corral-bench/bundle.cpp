#include "apps/corral-bench/bundle.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "runtime/spec/default_spec.hpp"

namespace corral::bench {

namespace fs = std::filesystem;

BusyboxRootfs::BusyboxRootfs(std::string dir) : rootfs_(std::move(dir) + "/rootfs") {
  for (const char* sub : {"bin", "proc", "sys", "dev", "tmp", "etc", "root"})
    fs::create_directories(rootfs_ + "/" + sub);
  fs::copy_file("/bin/busybox", rootfs_ + "/bin/busybox", fs::copy_options::overwrite_existing);
  for (const char* applet : {"sh", "true", "sleep"}) {
    std::error_code ignored;
    fs::create_symlink("busybox", rootfs_ + "/bin/" + applet, ignored);
  }
  std::ofstream(rootfs_ + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(rootfs_ + "/etc/group") << "root:x:0:\n";
}

std::string write_bundle(const std::string& dir, const std::string& rootfs,
                         const std::vector<std::string>& args, const std::string& cgroups_path) {
  fs::create_directories(dir);
  nlohmann::json spec = default_spec(false);
  spec["process"]["args"] = args;
  spec["process"]["terminal"] = false;
  spec["root"]["path"] = rootfs;
  if (!cgroups_path.empty()) spec["linux"]["cgroupsPath"] = cgroups_path;
  std::ofstream out(dir + "/config.json");
  out << spec.dump(2);
  if (!out) throw std::runtime_error("cannot write " + dir + "/config.json");
  return dir;
}

}  // namespace corral::bench
