#include "apps/corral/version.hpp"

#include <fmt/format.h>

// Both come from apps/corral/CMakeLists.txt; the fallbacks keep a build outside it honest.
#ifndef CORRAL_VERSION
#define CORRAL_VERSION "unknown"
#endif
#ifndef CORRAL_GIT_COMMIT
#define CORRAL_GIT_COMMIT ""
#endif

namespace corral::cli {

std::string_view corral_version() {
  return CORRAL_VERSION;
}
std::string_view corral_commit() {
  return CORRAL_GIT_COMMIT;
}

std::string version_text() {
  std::string out = fmt::format("corral version {}\n", corral_version());
  if (!corral_commit().empty()) out += fmt::format("commit: {}\n", corral_commit());
  out += fmt::format("spec: {}\n", kSpecVersionMax);
  return out;
}

}  // namespace corral::cli
