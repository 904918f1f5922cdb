#include "apps/corral/time_format.hpp"

#include <fmt/format.h>

#include <ctime>

namespace corral::cli {
namespace {

struct Split {
  std::tm utc{};
  long nanoseconds = 0;
};

Split split(SystemTime time) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<nanoseconds>(time.time_since_epoch());
  auto whole = floor<seconds>(since_epoch);  // floor, so times before 1970 keep a positive fraction
  Split out;
  out.nanoseconds = static_cast<long>((since_epoch - whole).count());
  std::time_t t = static_cast<std::time_t>(whole.count());
  ::gmtime_r(&t, &out.utc);
  return out;
}

std::string date_time(const std::tm& utc) {
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

}  // namespace

std::string format_rfc3339(SystemTime time) {
  return date_time(split(time).utc) + "Z";
}

std::string format_rfc3339_nano(SystemTime time) {
  Split parts = split(time);
  std::string out = date_time(parts.utc);
  if (parts.nanoseconds != 0) {
    std::string fraction = fmt::format("{:09}", parts.nanoseconds);
    while (fraction.back() == '0') fraction.pop_back();
    out += "." + fraction;
  }
  return out + "Z";
}

}  // namespace corral::cli
