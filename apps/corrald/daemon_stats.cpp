#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "connection.hpp"

namespace corrald {

nlohmann::json daemon_stats(const Supervisor& supervisor) {
  std::map<std::string, std::size_t> by_status;
  for (const auto& info : supervisor.list()) ++by_status[info.status];
  std::size_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++fds;
    ::closedir(dir);
    --fds;  // the directory's own descriptor
  }
  long pages_total = 0, pages_resident = 0;
  std::ifstream("/proc/self/statm") >> pages_total >> pages_resident;
  return {{"containers", supervisor.size()},
          {"by_status", by_status},
          {"open_fds", fds},
          {"rss_bytes", pages_resident * ::sysconf(_SC_PAGESIZE)},
          {"pid", ::getpid()}};
}

}  // namespace corrald
