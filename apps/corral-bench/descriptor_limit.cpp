#include "apps/corral-bench/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace corral::bench {

std::uint64_t raise_descriptor_limit() {
  std::uint64_t wanted = 1 << 20;
  std::ifstream nr_open("/proc/sys/fs/nr_open");
  if (std::uint64_t kernel_max = 0; nr_open >> kernel_max) wanted = std::min(wanted, kernel_max);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  rlimit raised{std::max<rlim_t>(limit.rlim_cur, wanted), std::max<rlim_t>(limit.rlim_max, wanted)};
  // Raising the hard limit needs CAP_SYS_RESOURCE; without it, the soft one still goes up to
  // the hard one.
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  raised = {limit.rlim_max, limit.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  return limit.rlim_cur;
}

}  // namespace corral::bench
