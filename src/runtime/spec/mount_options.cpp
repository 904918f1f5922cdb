#include "runtime/spec/mount_options.hpp"

#include <fmt/format.h>
#include <sys/mount.h>

#include <array>
#include <string_view>

namespace corral {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // true: the option turns the flag off ("rw" clears MS_RDONLY)
  unsigned long flag;
};

constexpr std::array<FlagOption, 31> kFlagOptions{{
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"bind", false, MS_BIND},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagationOptions{{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Options with a meaning corral does not implement. Passing them on as data would be worse than
// refusing: on a bind mount the kernel ignores data, so "rro" would silently leave a writable
// tree behind.
constexpr std::array<std::string_view, 21> kRefusedOptions{
    "idmap",          "ridmap",       "tmpcopyup",   "rro",      "rrw",    "rnosuid",
    "rsuid",          "rnodev",       "rdev",        "rnoexec",  "rexec",  "rnodiratime",
    "rdiratime",      "rrelatime",    "rnorelatime", "rnoatime", "ratime", "rstrictatime",
    "rnostrictatime", "rnosymfollow", "rsymfollow",
};

}  // namespace

Expected<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& option : options) {
    if (option == "rbind") {
      out.flags |= MS_BIND | MS_REC;
      out.clear_flags &= ~(MS_BIND | MS_REC);
      continue;
    }
    if (option == "defaults" || option == "notmpcopyup") continue;  // no flag to set
    bool handled = false;
    for (const auto& entry : kFlagOptions) {
      if (entry.name != option) continue;
      if (entry.clear) {
        out.flags &= ~entry.flag;
        out.clear_flags |= entry.flag;
      } else {
        out.flags |= entry.flag;
        out.clear_flags &= ~entry.flag;
      }
      handled = true;
      break;
    }
    if (handled) continue;
    for (const auto& entry : kPropagationOptions) {
      if (entry.name != option) continue;
      out.propagation_flags = entry.flags;  // one propagation type; the last one wins
      handled = true;
      break;
    }
    if (handled) continue;
    for (std::string_view refused : kRefusedOptions) {
      if (refused == option) {
        return fail(Error(ErrorCode::ConfigInvalid,
                          fmt::format("mount option \"{}\" is not supported by corral", option)));
      }
    }
    if (option.empty()) {
      return fail(Error(ErrorCode::ConfigInvalid, "empty mount option"));
    }
    if (!out.data.empty()) out.data += ',';
    out.data += option;
  }
  return out;
}

}  // namespace corral
