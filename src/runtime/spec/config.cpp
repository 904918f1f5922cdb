#include "runtime/spec/config.hpp"

#include <sys/mount.h>

namespace corral {

bool Mount::is_bind() const {
  return (flags & MS_BIND) != 0 || type == "bind";
}

const Namespace* Linux::find_namespace(NamespaceType type) const {
  for (const Namespace& ns : namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

}  // namespace corral
