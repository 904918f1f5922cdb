#include "runtime/cgroups/group_dirs.hpp"

#include <mutex>
#include <vector>

namespace corral::cgroups {
namespace {

// One shared copy per distinct set of roots (a host has one layout; tests may make others).
std::shared_ptr<const std::map<std::string, std::string>> interned(
    const std::map<std::string, std::string>& roots) {
  // Never destroyed: a supervisor thread may still open a group while the program exits.
  static auto& mutex = *new std::mutex;
  static auto& known = *new std::vector<std::weak_ptr<const std::map<std::string, std::string>>>;
  std::lock_guard lock(mutex);
  std::erase_if(known, [](const auto& weak) { return weak.expired(); });
  for (const auto& weak : known)
    if (auto shared = weak.lock(); shared && *shared == roots) return shared;
  auto made = std::make_shared<const std::map<std::string, std::string>>(roots);
  known.push_back(made);
  return made;
}

}  // namespace

GroupDirs::GroupDirs(const std::map<std::string, std::string>& roots, std::string below)
    : roots_(below.empty() ? std::make_shared<const std::map<std::string, std::string>>(roots)
                           : interned(roots)),
      below_(std::move(below)) {}

GroupDirs GroupDirs::from_dirs(const std::map<std::string, std::string>& dirs) {
  if (dirs.empty()) return GroupDirs({}, "");
  const std::string& first = dirs.begin()->second;
  // Longest tail first: each '/' of the first directory, left to right, starts a candidate.
  for (std::size_t at = first.find('/', 1); at != std::string::npos; at = first.find('/', at + 1)) {
    const std::string tail = first.substr(at);
    bool shared = true;
    for (const auto& [controller, dir] : dirs)
      if (dir.size() <= tail.size() || !dir.ends_with(tail)) {
        shared = false;
        break;
      }
    if (!shared) continue;
    std::map<std::string, std::string> roots;
    for (const auto& [controller, dir] : dirs)
      roots[controller] = dir.substr(0, dir.size() - tail.size());
    return GroupDirs(roots, tail);
  }
  return GroupDirs(dirs, "");
}

std::optional<std::string> GroupDirs::find(const std::string& controller) const {
  const auto it = roots_->find(controller);
  if (it == roots_->end()) return std::nullopt;
  return it->second + below_;
}

std::map<std::string, std::string> GroupDirs::all() const {
  std::map<std::string, std::string> out;
  for (const auto& [controller, root] : *roots_) out[controller] = root + below_;
  return out;
}

}  // namespace corral::cgroups
