#pragma once
// Factory: the root directory that holds one directory per container (state.json, exec.fifo),
// and the settings shared by every container made or loaded from it.
//
//   auto factory = Factory::create("/run/corral");
//   auto c = factory->create_container("web", config);   // claims /run/corral/web
//   co_await (*c)->run(io);                               // or create() then start()
//   auto again = factory->load("web");                    // another process, later
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/container.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"
#include "runtime/state_store.hpp"

namespace corral {

struct FactoryOptions {
  // The init: empty means the corral-init binary next to the running executable (or in
  // src/init/ of a build tree). init_args follow argv[0]; init_self picks the seed's
  // "/proc/self/exe init" (the embedding program must then dispatch "init" itself).
  std::string init_path;
  std::vector<std::string> init_args;
  bool init_self = false;
  std::string cgroup_driver = "cgroupfs";  // "systemd" is Unsupported
  std::string cgroup_parent = "/corral";   // default parent of containers' cgroups
  bool tmpfs_root = false;                 // mount a tmpfs on the root unless already a mount
  std::string criu_path;                   // checkpoint/restore: Unsupported when set
  std::chrono::milliseconds setup_timeout{60'000};  // bound of the init-pipe conversation
};

class Factory {
 public:
  // Makes the root (mode 0700) if needed. Unsupported for a systemd driver or a criu path.
  static Expected<Factory> create(std::string root, FactoryOptions options = {});

  const std::string& root() const { return home_->store.root(); }
  const ContainerSettings& settings() const { return home_->settings; }

  // Validates the id and the config, claims the container's directory (mkdir 0700 is the
  // atomic claim: of two concurrent creates, in any processes, exactly one wins) and returns a
  // container in status Creating, whose create() starts the init.
  Expected<std::unique_ptr<Container>> create_container(const std::string& id, Config config);

  // Reads state.json and re-checks the recorded init (pid + start time): a dead, zombie or
  // reused pid makes the container Stopped.
  Expected<std::unique_ptr<Container>> load(const std::string& id);

  // ^[A-Za-z0-9_+.-]+$, not "." or "..", at most 255 bytes; else InvalidIdFormat saying why.
  static Expected<void> validate_id(std::string_view id);

 private:
  Factory(StateStore store, ContainerSettings settings)
      : home_(std::make_shared<const ContainerHome>(
            ContainerHome{std::move(store), std::move(settings)})) {}
  std::shared_ptr<const ContainerHome> home_;  // shared with every container it makes
};

// Where the corral-init binary is for a program at `executable` ("" = /proc/self/exe).
std::string default_init_path(const std::string& executable = {});

}  // namespace corral
