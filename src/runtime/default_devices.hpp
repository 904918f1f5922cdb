#pragma once
// The device rules every container gets on top of its config's, as runc does: a config that
// denies all devices (what `corral spec` writes) must still let the init create and the
// program use /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, /dev/ptmx
// and the pty slaves, and the devices the config itself lists in linux.devices.
#include "runtime/spec/config.hpp"

namespace corral {

// `resources` with the default allow rules and one rule per configured device appended after
// the config's own rules (later rules win in the devices cgroup).
Resources with_default_device_rules(Resources resources, const std::vector<Device>& devices);

}  // namespace corral
