#pragma once
// Checks a parsed Config for what the parser cannot see field by field: that the rootfs exists,
// that what needs a namespace has it, that sysctls only touch the container's namespaces, that
// paths are absolute. The first broken rule is returned as ConfigInvalid naming the field and
// its value, e.g. `config: hostname "web": needs a UTS namespace (linux.namespaces has no "uts")`.
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

Expected<void> validate_config(const Config& config);

}  // namespace corral
