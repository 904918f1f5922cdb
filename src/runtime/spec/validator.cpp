#include "runtime/spec/validator.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "runtime/spec/config_names.hpp"

namespace corral {
namespace {

using Problem = std::optional<Error>;

Error invalid(const std::string& field, const std::string& what, ErrorCause cause = {}) {
  return Error(ErrorCode::ConfigInvalid, fmt::format("config: {}: {}", field, what),
               std::move(cause));
}

std::string as_json_string(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_absolute(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

std::string missing_namespace(NamespaceType type) {
  return fmt::format("linux.namespaces has no \"{}\"", to_string(type));
}

Problem check_rootfs(const Config& config) {
  struct stat st {};
  if (::stat(config.root.path.c_str(), &st) != 0) {
    int e = errno;
    return invalid("root.path",
                   fmt::format("{}: {}", as_json_string(config.root.path), std::strerror(e)),
                   ErrorCause{e, "stat", config.root.path});
  }
  if (!S_ISDIR(st.st_mode)) {
    return invalid("root.path",
                   fmt::format("{} is not a directory", as_json_string(config.root.path)),
                   ErrorCause{ENOTDIR, "stat", config.root.path});
  }
  return std::nullopt;
}

Problem check_names(const Config& config) {
  const bool uts = config.linux_spec.find_namespace(NamespaceType::Uts) != nullptr;
  if (!config.hostname.empty() && !uts) {
    return invalid("hostname",
                   fmt::format("{} needs a UTS namespace ({})", as_json_string(config.hostname),
                               missing_namespace(NamespaceType::Uts)));
  }
  if (!config.domainname.empty() && !uts) {
    return invalid("domainname",
                   fmt::format("{} needs a UTS namespace ({})", as_json_string(config.domainname),
                               missing_namespace(NamespaceType::Uts)));
  }
  return std::nullopt;
}

Problem check_id_mappings(const Linux& linux_spec) {
  const Namespace* user = linux_spec.find_namespace(NamespaceType::User);
  const bool has_uid = !linux_spec.uid_mappings.empty();
  const bool has_gid = !linux_spec.gid_mappings.empty();
  if (!user && (has_uid || has_gid)) {
    return invalid(
        has_uid ? "linux.uidMappings" : "linux.gidMappings",
        fmt::format("mappings need a user namespace ({})", missing_namespace(NamespaceType::User)));
  }
  // A user namespace that is joined has its mappings already; a new one needs both.
  if (user && user->path.empty() && (!has_uid || !has_gid)) {
    return invalid("linux.namespaces",
                   fmt::format("a new \"user\" namespace needs linux.{} (it has none)",
                               has_uid ? "gidMappings" : "uidMappings"));
  }
  for (const auto* list : {&linux_spec.uid_mappings, &linux_spec.gid_mappings}) {
    const char* name = list == &linux_spec.uid_mappings ? "uidMappings" : "gidMappings";
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].size == 0) {
        return invalid(fmt::format("linux.{}[{}].size", name, i), "0 maps no ids");
      }
    }
  }
  return std::nullopt;
}

bool same_file(const std::string& a, const char* b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// runc's rule: only sysctls that live in a namespace the container has of its own may be set;
// anything else would change the host.
Problem check_sysctl(const Linux& linux_spec) {
  for (const auto& [raw_key, value] : linux_spec.sysctl) {
    std::string key = raw_key;
    std::replace(key.begin(), key.end(), '/', '.');  // "net/ipv4/ip_forward" is allowed too
    const std::string field = fmt::format("linux.sysctl[{}]", as_json_string(raw_key));
    const std::string what = fmt::format("{}={}", as_json_string(raw_key), as_json_string(value));

    std::optional<NamespaceType> needs;
    if (starts_with(key, "kernel.msg") || starts_with(key, "kernel.shm") || key == "kernel.sem" ||
        starts_with(key, "fs.mqueue.")) {
      needs = NamespaceType::Ipc;
    } else if (starts_with(key, "net.")) {
      needs = NamespaceType::Network;
    } else if (key == "kernel.hostname" || key == "kernel.domainname") {
      needs = NamespaceType::Uts;
    } else {
      return invalid(field, fmt::format("{} is not a namespaced sysctl: setting it would change "
                                        "the host",
                                        what));
    }
    const Namespace* ns = linux_spec.find_namespace(*needs);
    if (!ns) {
      return invalid(field, fmt::format("{} needs its own \"{}\" namespace ({})", what,
                                        to_string(*needs), missing_namespace(*needs)));
    }
    if (*needs == NamespaceType::Network && !ns->path.empty() &&
        same_file(ns->path, "/proc/self/ns/net")) {
      return invalid(field, fmt::format("{} needs a network namespace other than the host's, and "
                                        "{} is the host's",
                                        what, as_json_string(ns->path)));
    }
  }
  return std::nullopt;
}

Problem check_namespace_paths(const Linux& linux_spec) {
  for (std::size_t i = 0; i < linux_spec.namespaces.size(); ++i) {
    const Namespace& ns = linux_spec.namespaces[i];
    if (!ns.path.empty() && !is_absolute(ns.path)) {
      return invalid(fmt::format("linux.namespaces[{}].path", i),
                     fmt::format("{} ({} namespace) is not an absolute path",
                                 as_json_string(ns.path), to_string(ns.type)));
    }
  }
  return std::nullopt;
}

Problem check_process(const Config& config) {
  if (!config.process) return std::nullopt;
  const Process& p = *config.process;
  if (p.args.empty()) return invalid("process.args", "must name the program to run (it is empty)");
  if (!is_absolute(p.cwd)) {
    return invalid("process.cwd", fmt::format("{} is not an absolute path", as_json_string(p.cwd)));
  }
  return std::nullopt;
}

Problem check_paths(const Config& config) {
  for (std::size_t i = 0; i < config.mounts.size(); ++i) {
    if (!is_absolute(config.mounts[i].destination)) {
      return invalid(
          fmt::format("mounts[{}].destination", i),
          fmt::format("{} is not an absolute path", as_json_string(config.mounts[i].destination)));
    }
  }
  const Linux& l = config.linux_spec;
  for (const auto* list : {&l.masked_paths, &l.readonly_paths}) {
    const char* name = list == &l.masked_paths ? "maskedPaths" : "readonlyPaths";
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!is_absolute((*list)[i])) {
        return invalid(fmt::format("linux.{}[{}]", name, i),
                       fmt::format("{} is not an absolute path", as_json_string((*list)[i])));
      }
    }
  }
  for (const auto& component : std::filesystem::path(l.cgroups_path)) {
    if (component == "..") {
      return invalid("linux.cgroupsPath",
                     fmt::format("{} must not contain \"..\"", as_json_string(l.cgroups_path)));
    }
  }
  return std::nullopt;
}

Problem check_seccomp(const Linux& linux_spec) {
  if (!linux_spec.seccomp) return std::nullopt;
  const auto& archs = linux_spec.seccomp->architectures;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    if (!is_known_seccomp_architecture(archs[i])) {
      return invalid(fmt::format("linux.seccomp.architectures[{}]", i),
                     fmt::format("unknown architecture {}", as_json_string(archs[i])));
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<void> validate_config(const Config& config) {
  for (Problem problem :
       {check_rootfs(config), check_names(config), check_id_mappings(config.linux_spec),
        check_sysctl(config.linux_spec), check_namespace_paths(config.linux_spec),
        check_process(config), check_paths(config), check_seccomp(config.linux_spec)}) {
    if (problem) return fail(std::move(*problem));
  }
  return {};
}

}  // namespace corral
