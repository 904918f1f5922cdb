#pragma once
// ExampleBundles: a throwaway directory with a tiny busybox rootfs (the host's busybox-static)
// and OCI bundles that run a command in it; everything is removed by the destructor.
#include <string>
#include <vector>

#include "runtime/spec/error.hpp"

namespace corral::examples {

class ExampleBundles {
 public:
  // Makes /tmp/corral-example-XXXXXX/rootfs from /bin/busybox.
  static Expected<ExampleBundles> make();
  ExampleBundles(ExampleBundles&& other) noexcept;
  ExampleBundles& operator=(ExampleBundles&&) = delete;
  ~ExampleBundles();

  const std::string& dir() const { return dir_; }
  // The supervisor's root: a directory inside dir().
  std::string supervisor_root() const { return dir_ + "/root"; }
  // Writes dir()/bundle-NAME/config.json running `args`; returns the bundle directory.
  Expected<std::string> bundle(const std::string& name, std::vector<std::string> args) const;

 private:
  explicit ExampleBundles(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace corral::examples
