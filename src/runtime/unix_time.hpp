#pragma once
// Wall-clock time as state.json, logs and exit records store it: nanoseconds since the Unix
// epoch, UTC.
#include <chrono>
#include <cstdint>

namespace corral {

inline std::int64_t unix_time_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace corral
