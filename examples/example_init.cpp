#include "example_init.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "runtime/factory.hpp"

namespace corral::examples {

Expected<std::string> find_init(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--init" && i + 1 < argc) {
      path = argv[++i];
    } else {
      return fail(Error(ErrorCode::ConfigInvalid, "unknown argument " + std::string(arg) +
                                                      " (usage: " + argv[0] +
                                                      " [--init PATH-TO-corral-init])"));
    }
  }
  if (path.empty()) {
    if (const char* env = std::getenv("CORRAL_INIT")) path = env;
  }
  if (path.empty()) path = default_init_path();
  if (::access(path.c_str(), X_OK) != 0)
    return fail(Error::from_errno(errno, "find corral-init (give --init PATH)", path));
  return path;
}

}  // namespace corral::examples
