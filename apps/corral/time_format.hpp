#pragma once
// Timestamps as Go formats them, since runc's consumers parse them with Go's time package.
#include <chrono>
#include <string>

namespace corral::cli {

using SystemTime = std::chrono::system_clock::time_point;

// RFC 3339 to the second, in UTC: "2024-05-01T12:34:56Z" (logrus' default time format).
std::string format_rfc3339(SystemTime time);

// Go's RFC3339Nano, in UTC: fraction to the nanosecond with trailing zeros removed (and no dot
// when it is zero): "2024-05-01T12:34:56.1234Z". runc's `state` and `list` print `created` so.
std::string format_rfc3339_nano(SystemTime time);

}  // namespace corral::cli
