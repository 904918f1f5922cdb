#include "example_bundle.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/spec/default_spec.hpp"

namespace corral::examples {

Expected<ExampleBundles> ExampleBundles::make() {
  std::string pattern = "/tmp/corral-example-XXXXXX";
  if (!::mkdtemp(pattern.data())) return fail(Error::from_errno(errno, "mkdtemp", pattern));
  ExampleBundles bundles(pattern);
  std::error_code ec;
  const std::string bin = pattern + "/rootfs/bin";
  std::filesystem::create_directories(bin, ec);
  if (!ec) std::filesystem::copy_file("/bin/busybox", bin + "/busybox", ec);
  if (ec)
    return fail(Error(ErrorCode::SystemError,
                      "make example rootfs " + bin + " from /bin/busybox: " + ec.message()));
  // The mount points of the default config, as any real image has them. (Without them,
  // containers created at the same moment from this one rootfs race to mkdir them, and the
  // init's mkdir_all takes the loser's EEXIST for an error.)
  for (const char* mount_point : {"dev", "proc", "sys"}) {
    std::filesystem::create_directories(pattern + "/rootfs/" + mount_point, ec);
    if (ec)
      return fail(Error(ErrorCode::SystemError, "make example rootfs: mkdir " + pattern +
                                                    "/rootfs/" + mount_point + ": " +
                                                    ec.message()));
  }
  for (const char* tool : {"sh", "sleep", "echo"}) {
    std::filesystem::create_symlink("busybox", bin + "/" + tool, ec);
    if (ec)
      return fail(Error(ErrorCode::SystemError,
                        "make example rootfs: link " + bin + "/" + tool + ": " + ec.message()));
  }
  return bundles;
}

ExampleBundles::ExampleBundles(ExampleBundles&& other) noexcept
    : dir_(std::exchange(other.dir_, {})) {}

ExampleBundles::~ExampleBundles() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Expected<std::string> ExampleBundles::bundle(const std::string& name,
                                             std::vector<std::string> args) const {
  const std::string dir = dir_ + "/bundle-" + name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Error(ErrorCode::SystemError, "make bundle " + dir + ": " + ec.message()));
  nlohmann::json spec = default_spec(false);
  spec["process"]["args"] = std::move(args);
  spec["process"]["terminal"] = false;
  spec["root"]["path"] = dir_ + "/rootfs";
  std::ofstream out(dir + "/config.json");
  out << spec.dump(2);
  out.close();
  if (!out) return fail(Error(ErrorCode::SystemError, "write " + dir + "/config.json failed"));
  return dir;
}

}  // namespace corral::examples
