#pragma once
// Where the examples find corral-init: --init PATH, else the CORRAL_INIT environment variable,
// else next to the program (or in src/init/ of the build tree), as the library looks for it.
#include <string>

#include "runtime/spec/error.hpp"

namespace corral::examples {

// Parses argv (only --init PATH is known); the path is checked to be executable.
Expected<std::string> find_init(int argc, char** argv);

}  // namespace corral::examples
