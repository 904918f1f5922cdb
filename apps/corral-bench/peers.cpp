#include "apps/corral-bench/peers.hpp"

#include <unistd.h>

#include <cstdlib>

namespace corral::bench {

std::vector<std::unique_ptr<Peer>> make_peers(const PeerContext& context) {
  std::vector<std::unique_ptr<Peer>> peers;
  peers.push_back(make_floor_peer(context));
  peers.push_back(make_library_peer(context));
  peers.push_back(make_cli_peer(context, "corral", context.corral_cli));
  peers.push_back(make_corrald_peer(context));
  peers.push_back(make_cli_peer(context, "runc", "runc"));
  peers.push_back(make_cli_peer(context, "crun", "crun"));
  return peers;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace corral::bench
