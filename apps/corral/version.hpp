#pragma once
// What `corral --version` prints, in runc's shape:
//   corral version 0.1.0
//   commit: 4154dee
//   spec: 1.2.0
#include <string>
#include <string_view>

namespace corral::cli {

std::string_view corral_version();
// The git commit the binary was built from; empty when the build did not know it.
std::string_view corral_commit();
// The newest runtime-spec version corral reads (config_parser accepts 1.0 to 1.2).
inline constexpr std::string_view kSpecVersionMin = "1.0.0";
inline constexpr std::string_view kSpecVersionMax = "1.2.0";

std::string version_text();

}  // namespace corral::cli
