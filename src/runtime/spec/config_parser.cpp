#include "runtime/spec/config_parser.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "runtime/spec/capabilities.hpp"
#include "runtime/spec/config_names.hpp"
#include "runtime/spec/json_node.hpp"
#include "runtime/spec/mount_options.hpp"

namespace corral {
namespace {

using nlohmann::json;
using spec_detail::ConfigFieldError;
using spec_detail::JsonNode;

// A field corral knows but cannot honour: refused when it asks for anything.
void refuse_if_set(const JsonNode& parent, const char* key, const char* why) {
  auto node = parent.get(key);
  if (node && !node->is_empty_value()) {
    node->fail(fmt::format("{} is not supported: {}", node->brief(), why));
  }
}

std::optional<std::string> optional_string(const JsonNode& parent, const char* key) {
  auto node = parent.get(key);
  if (!node) return std::nullopt;
  return node->as_string();
}

std::vector<std::string> string_list(const JsonNode& parent, const char* key) {
  auto node = parent.get(key);
  return node ? node->as_strings() : std::vector<std::string>{};
}

template <class T, class Parse>
std::optional<T> optional_field(const JsonNode& parent, const char* key, Parse parse) {
  auto node = parent.get(key);
  if (!node) return std::nullopt;
  return parse(*node);
}

// ---- process ----

std::vector<std::string> parse_capability_set(const JsonNode& caps, const char* key) {
  std::vector<std::string> out;
  auto set = caps.get(key);
  if (!set) return out;
  for (const JsonNode& item : set->items()) {
    std::string name = item.as_string();
    if (!capability_number(name)) item.fail(fmt::format("unknown capability \"{}\"", name));
    out.push_back(std::move(name));
  }
  return out;
}

std::vector<Rlimit> parse_rlimits(const JsonNode& node) {
  std::vector<Rlimit> out;
  std::set<int> seen;
  for (const JsonNode& item : node.items()) {
    Rlimit limit;
    JsonNode type = item.required("type");
    limit.name = type.as_string();
    auto resource = parse_rlimit_name(limit.name);
    if (!resource) type.fail(fmt::format("unknown rlimit \"{}\"", limit.name));
    if (!seen.insert(*resource).second) {
      type.fail(fmt::format("duplicate rlimit \"{}\"", limit.name));
    }
    limit.resource = *resource;
    limit.soft = item.required("soft").as_u64();
    limit.hard = item.required("hard").as_u64();
    out.push_back(std::move(limit));
  }
  return out;
}

User parse_user(const JsonNode& node) {
  User user;
  if (auto uid = node.get("uid")) user.uid = uid->as_u32();
  if (auto gid = node.get("gid")) user.gid = gid->as_u32();
  if (auto umask = node.get("umask")) {
    user.umask = umask->as_u32();
    if (*user.umask > 0777) umask->fail(fmt::format("{:#o} is not a file mode mask", *user.umask));
  }
  if (auto gids = node.get("additionalGids")) {
    for (const JsonNode& gid : gids->items()) user.additional_gids.push_back(gid.as_u32());
  }
  user.username = optional_string(node, "username").value_or("");
  return user;
}

Process parse_process(const JsonNode& node) {
  Process p;
  if (auto terminal = node.get("terminal")) p.terminal = terminal->as_bool();
  if (auto size = node.get("consoleSize")) {
    p.console_size =
        ConsoleSize{size->required("height").as_u32(), size->required("width").as_u32()};
  }
  if (auto user = node.get("user")) p.user = parse_user(*user);
  p.args = string_list(node, "args");
  optional_string(node, "commandLine");  // Windows-only: type-checked, not used
  p.env = string_list(node, "env");
  if (auto cwd = node.get("cwd")) p.cwd = cwd->as_string();
  if (auto caps = node.get("capabilities")) {
    Capabilities c;
    c.bounding = parse_capability_set(*caps, "bounding");
    c.effective = parse_capability_set(*caps, "effective");
    c.inheritable = parse_capability_set(*caps, "inheritable");
    c.permitted = parse_capability_set(*caps, "permitted");
    c.ambient = parse_capability_set(*caps, "ambient");
    p.capabilities = std::move(c);
  }
  if (auto rlimits = node.get("rlimits")) p.rlimits = parse_rlimits(*rlimits);
  if (auto nnp = node.get("noNewPrivileges")) p.no_new_privileges = nnp->as_bool();
  if (auto oom = node.get("oomScoreAdj")) {
    p.oom_score_adj = oom->as_int();
    if (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000) {
      oom->fail(fmt::format("{} is outside -1000..1000", *p.oom_score_adj));
    }
  }
  p.apparmor_profile = optional_string(node, "apparmorProfile").value_or("");
  refuse_if_set(node, "apparmorProfile", "corral has no AppArmor support");
  p.selinux_label = optional_string(node, "selinuxLabel").value_or("");
  refuse_if_set(node, "selinuxLabel", "corral has no SELinux support");
  refuse_if_set(node, "ioPriority", "corral does not set I/O priorities");
  refuse_if_set(node, "scheduler", "corral does not set scheduling policies");
  refuse_if_set(node, "execCPUAffinity", "corral does not set CPU affinity");
  return p;
}

// ---- root, mounts, hooks ----

std::string resolve_in_bundle(const std::string& bundle, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(bundle) / p;
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Root parse_root(const JsonNode& node, const std::string& bundle) {
  Root root;
  JsonNode path = node.required("path");
  root.path = path.as_string();
  if (root.path.empty()) path.fail("must not be empty");
  root.path = resolve_in_bundle(bundle, root.path);
  if (auto readonly = node.get("readonly")) root.readonly = readonly->as_bool();
  return root;
}

Mount parse_mount(const JsonNode& node) {
  Mount m;
  m.destination = node.required("destination").as_string();
  m.type = optional_string(node, "type").value_or("");
  m.source = optional_string(node, "source").value_or("");
  m.options = string_list(node, "options");
  refuse_if_set(node, "uidMappings", "corral does not make idmapped mounts");
  refuse_if_set(node, "gidMappings", "corral does not make idmapped mounts");
  auto parsed = parse_mount_options(m.options);
  if (!parsed) node.required("options").fail(parsed.error().message());
  m.flags = parsed->flags;
  m.clear_flags = parsed->clear_flags;
  m.propagation_flags = parsed->propagation_flags;
  m.data = std::move(parsed->data);
  if (m.type == "bind") m.flags |= MS_BIND;
  if (m.is_bind() && !m.data.empty()) {
    // The kernel ignores data on a bind mount: the caller's options would be lost unseen.
    node.required("options").fail(
        fmt::format("\"{}\" cannot apply to a bind mount (the kernel ignores it)", m.data));
  }
  return m;
}

std::vector<Hook> parse_hook_list(const JsonNode& hooks, const char* key) {
  std::vector<Hook> out;
  auto list = hooks.get(key);
  if (!list) return out;
  for (const JsonNode& item : list->items()) {
    Hook hook;
    JsonNode path = item.required("path");
    hook.path = path.as_string();
    if (hook.path.empty() || hook.path.front() != '/') {
      path.fail(fmt::format("\"{}\" is not an absolute path", hook.path));
    }
    hook.args = string_list(item, "args");
    hook.env = string_list(item, "env");
    if (auto timeout = item.get("timeout")) {
      hook.timeout_seconds = timeout->as_int();
      if (*hook.timeout_seconds <= 0) {
        timeout->fail(fmt::format("{} is not greater than zero", *hook.timeout_seconds));
      }
    }
    out.push_back(std::move(hook));
  }
  return out;
}

Hooks parse_hooks(const JsonNode& node) {
  Hooks hooks;
  hooks.prestart = parse_hook_list(node, "prestart");
  hooks.create_runtime = parse_hook_list(node, "createRuntime");
  hooks.create_container = parse_hook_list(node, "createContainer");
  hooks.start_container = parse_hook_list(node, "startContainer");
  hooks.poststart = parse_hook_list(node, "poststart");
  hooks.poststop = parse_hook_list(node, "poststop");
  return hooks;
}

// ---- linux ----

std::vector<Namespace> parse_namespaces(const JsonNode& node) {
  std::vector<Namespace> out;
  for (const JsonNode& item : node.items()) {
    JsonNode type = item.required("type");
    std::string name = type.as_string();
    auto parsed = parse_namespace_type(name);
    if (!parsed) type.fail(fmt::format("unknown namespace type \"{}\"", name));
    for (const Namespace& existing : out) {
      if (existing.type == *parsed) type.fail(fmt::format("duplicate namespace \"{}\"", name));
    }
    out.push_back(Namespace{*parsed, optional_string(item, "path").value_or("")});
  }
  return out;
}

std::vector<IdMapping> parse_id_mappings(const JsonNode& node) {
  std::vector<IdMapping> out;
  for (const JsonNode& item : node.items()) {
    out.push_back(IdMapping{item.required("containerID").as_u32(), item.required("hostID").as_u32(),
                            item.required("size").as_u32()});
  }
  return out;
}

char parse_type_letter(const JsonNode& node, std::string_view allowed) {
  std::string type = node.as_string();
  if (type.size() != 1 || allowed.find(type[0]) == std::string_view::npos) {
    node.fail(fmt::format("device type \"{}\" is not one of \"{}\"", type, allowed));
  }
  return type[0];
}

std::vector<Device> parse_devices(const JsonNode& node) {
  std::vector<Device> out;
  for (const JsonNode& item : node.items()) {
    Device d;
    JsonNode path = item.required("path");
    d.path = path.as_string();
    if (d.path.empty() || d.path.front() != '/') {
      path.fail(fmt::format("\"{}\" is not an absolute path", d.path));
    }
    d.type = parse_type_letter(item.required("type"), "cbup");
    if (d.type == 'p') {
      if (auto major = item.get("major")) d.major = major->as_i64();
      if (auto minor = item.get("minor")) d.minor = minor->as_i64();
    } else {
      d.major = item.required("major").as_i64();
      d.minor = item.required("minor").as_i64();
    }
    if (auto mode = item.get("fileMode")) {
      d.file_mode = mode->as_u32();
      if (*d.file_mode > 07777) mode->fail(fmt::format("{:#o} is not a file mode", *d.file_mode));
    }
    if (auto uid = item.get("uid")) d.uid = uid->as_u32();
    if (auto gid = item.get("gid")) d.gid = gid->as_u32();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DeviceRule> parse_device_rules(const JsonNode& node) {
  std::vector<DeviceRule> out;
  for (const JsonNode& item : node.items()) {
    DeviceRule rule;
    rule.allow = item.required("allow").as_bool();
    if (auto type = item.get("type")) rule.type = parse_type_letter(*type, "acb");
    // A negative number is how some tools write "any" ('*').
    if (auto major = item.get("major"); major && major->as_i64() >= 0) rule.major = major->as_i64();
    if (auto minor = item.get("minor"); minor && minor->as_i64() >= 0) rule.minor = minor->as_i64();
    if (auto access = item.get("access")) {
      rule.access = access->as_string();
      if (rule.access.find_first_not_of("rwm") != std::string::npos) {
        access->fail(fmt::format("\"{}\" is not a combination of r, w and m", rule.access));
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

MemoryResources parse_memory(const JsonNode& node) {
  MemoryResources m;
  m.limit = optional_field<std::int64_t>(node, "limit", [](auto& n) { return n.as_i64(); });
  m.reservation =
      optional_field<std::int64_t>(node, "reservation", [](auto& n) { return n.as_i64(); });
  m.swap = optional_field<std::int64_t>(node, "swap", [](auto& n) { return n.as_i64(); });
  if (auto swappiness = node.get("swappiness")) {
    m.swappiness = swappiness->as_u64();
    if (*m.swappiness > 100) swappiness->fail(fmt::format("{} is above 100", *m.swappiness));
  }
  m.disable_oom_killer =
      optional_field<bool>(node, "disableOOMKiller", [](auto& n) { return n.as_bool(); });
  refuse_if_set(node, "kernel", "kernel memory limits are deprecated and not applied");
  refuse_if_set(node, "kernelTCP", "kernel TCP memory limits are not applied by corral");
  // Type-checked only: they change how limits are applied, not which.
  optional_field<bool>(node, "useHierarchy", [](auto& n) { return n.as_bool(); });
  optional_field<bool>(node, "checkBeforeUpdate", [](auto& n) { return n.as_bool(); });
  return m;
}

CpuResources parse_cpu(const JsonNode& node) {
  CpuResources c;
  c.shares = optional_field<std::uint64_t>(node, "shares", [](auto& n) { return n.as_u64(); });
  c.quota = optional_field<std::int64_t>(node, "quota", [](auto& n) { return n.as_i64(); });
  c.period = optional_field<std::uint64_t>(node, "period", [](auto& n) { return n.as_u64(); });
  c.cpus = optional_string(node, "cpus").value_or("");
  c.mems = optional_string(node, "mems").value_or("");
  refuse_if_set(node, "burst", "corral does not set CPU burst");
  refuse_if_set(node, "realtimeRuntime", "corral does not set real-time CPU limits");
  refuse_if_set(node, "realtimePeriod", "corral does not set real-time CPU limits");
  refuse_if_set(node, "idle", "corral does not set SCHED_IDLE cgroups");
  return c;
}

Resources parse_resources(const JsonNode& node) {
  Resources r;
  if (auto devices = node.get("devices")) r.devices = parse_device_rules(*devices);
  if (auto memory = node.get("memory")) r.memory = parse_memory(*memory);
  if (auto cpu = node.get("cpu")) r.cpu = parse_cpu(*cpu);
  if (auto pids = node.get("pids")) r.pids = PidsResources{pids->required("limit").as_i64()};
  refuse_if_set(node, "blockIO", "corral has no blkio controller support");
  refuse_if_set(node, "hugepageLimits", "corral has no hugetlb controller support");
  refuse_if_set(node, "network", "corral has no net_cls/net_prio controller support");
  refuse_if_set(node, "rdma", "corral has no rdma controller support");
  refuse_if_set(node, "unified", "this host's cgroup controllers are v1, not unified");
  return r;
}

Seccomp parse_seccomp(const JsonNode& node) {
  Seccomp s;
  auto action = [](const JsonNode& n) {
    std::string name = n.as_string();
    auto parsed = parse_seccomp_action(name);
    if (!parsed) n.fail(fmt::format("unknown seccomp action \"{}\"", name));
    return *parsed;
  };
  s.default_action = action(node.required("defaultAction"));
  if (auto ret = node.get("defaultErrnoRet")) s.default_errno_ret = ret->as_u32();
  s.architectures = string_list(node, "architectures");
  if (auto flags = node.get("flags")) {
    for (const JsonNode& flag : flags->items()) {
      std::string name = flag.as_string();
      if (!is_known_seccomp_flag(name)) flag.fail(fmt::format("unknown seccomp flag \"{}\"", name));
      s.flags.push_back(std::move(name));
    }
  }
  refuse_if_set(node, "listenerPath", "corral does not forward seccomp notify file descriptors");
  refuse_if_set(node, "listenerMetadata",
                "corral does not forward seccomp notify file descriptors");
  if (auto syscalls = node.get("syscalls")) {
    for (const JsonNode& item : syscalls->items()) {
      SeccompSyscall call;
      JsonNode names = item.required("names");
      call.names = names.as_strings();
      if (call.names.empty()) names.fail("must name at least one system call");
      call.action = action(item.required("action"));
      if (auto ret = item.get("errnoRet")) call.errno_ret = ret->as_u32();
      if (auto args = item.get("args")) {
        for (const JsonNode& arg_node : args->items()) {
          SeccompArg arg;
          JsonNode index = arg_node.required("index");
          arg.index = index.as_u32();
          if (arg.index > 5) index.fail(fmt::format("{} is not an argument index 0-5", arg.index));
          arg.value = arg_node.required("value").as_u64();
          if (auto two = arg_node.get("valueTwo")) arg.value_two = two->as_u64();
          JsonNode op = arg_node.required("op");
          std::string op_name = op.as_string();
          auto parsed = parse_seccomp_operator(op_name);
          if (!parsed) op.fail(fmt::format("unknown seccomp operator \"{}\"", op_name));
          arg.op = *parsed;
          call.args.push_back(arg);
        }
      }
      s.syscalls.push_back(std::move(call));
    }
  }
  return s;
}

void check_personality(const JsonNode& node) {
  if (auto domain = node.get("domain")) {
    std::string name = domain->as_string();
    if (name != "LINUX") {
      domain->fail(fmt::format("\"{}\" is not supported: corral runs only the LINUX domain", name));
    }
  }
  refuse_if_set(node, "flags", "corral does not set personality flags");
}

Linux parse_linux(const JsonNode& node) {
  Linux l;
  if (auto namespaces = node.get("namespaces")) l.namespaces = parse_namespaces(*namespaces);
  if (auto maps = node.get("uidMappings")) l.uid_mappings = parse_id_mappings(*maps);
  if (auto maps = node.get("gidMappings")) l.gid_mappings = parse_id_mappings(*maps);
  refuse_if_set(node, "timeOffsets", "corral does not set time namespace offsets");
  if (auto devices = node.get("devices")) l.devices = parse_devices(*devices);
  l.cgroups_path = optional_string(node, "cgroupsPath").value_or("");
  if (auto resources = node.get("resources")) l.resources = parse_resources(*resources);
  if (auto sysctl = node.get("sysctl")) l.sysctl = sysctl->as_string_map();
  l.masked_paths = string_list(node, "maskedPaths");
  l.readonly_paths = string_list(node, "readonlyPaths");
  if (auto seccomp = node.get("seccomp")) l.seccomp = parse_seccomp(*seccomp);
  if (auto propagation = node.get("rootfsPropagation")) {
    l.rootfs_propagation = propagation->as_string();
    static const std::set<std::string> kValid{"",        "private",    "rprivate",
                                              "slave",   "rslave",     "shared",
                                              "rshared", "unbindable", "runbindable"};
    if (!kValid.count(l.rootfs_propagation)) {
      propagation->fail(fmt::format("\"{}\" is not a mount propagation", l.rootfs_propagation));
    }
  }
  l.mount_label = optional_string(node, "mountLabel").value_or("");
  refuse_if_set(node, "mountLabel", "corral has no SELinux support");
  refuse_if_set(node, "intelRdt", "corral has no Intel RDT support");
  if (auto personality = node.get("personality")) check_personality(*personality);
  refuse_if_set(node, "memoryPolicy", "corral does not set NUMA memory policies");
  refuse_if_set(node, "netDevices", "corral does not move network devices");
  return l;
}

// ---- the document ----

void check_oci_version(const JsonNode& node) {
  std::string version = node.as_string();
  if (version.size() < 2 || version[0] != '1' || version[1] != '.') {
    node.fail(fmt::format("\"{}\" is not a runtime-spec 1.x version", version));
  }
}

Config parse_document(const JsonNode& doc, const std::string& bundle) {
  Config config;
  config.bundle = bundle;
  JsonNode version = doc.required("ociVersion");
  check_oci_version(version);
  config.oci_version = version.as_string();
  if (auto process = doc.get("process")) config.process = parse_process(*process);
  config.root = parse_root(doc.required("root"), bundle);
  config.hostname = optional_string(doc, "hostname").value_or("");
  config.domainname = optional_string(doc, "domainname").value_or("");
  if (auto mounts = doc.get("mounts")) {
    for (const JsonNode& item : mounts->items()) config.mounts.push_back(parse_mount(item));
  }
  if (auto hooks = doc.get("hooks")) config.hooks = parse_hooks(*hooks);
  if (auto annotations = doc.get("annotations")) config.annotations = annotations->as_string_map();
  if (auto linux_node = doc.get("linux")) {
    config.linux_spec = parse_linux(*linux_node);
    // oomScoreAdj moved from linux to process in runtime-spec 1.0; accept the old place too.
    if (auto oom = linux_node->get("oomScoreAdj");
        oom && config.process && !config.process->oom_score_adj) {
      config.process->oom_score_adj = oom->as_int();
    }
  }
  return config;
}

Error config_invalid(const std::string& message, const std::string& path = {}) {
  return Error(ErrorCode::ConfigInvalid, "config.json: " + message, ErrorCause{0, {}, path});
}

Expected<std::string> absolute_bundle(const std::string& bundle_dir) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(bundle_dir, ec);
  if (ec) {
    return fail(
        Error(ErrorCode::ConfigInvalid,
              fmt::format("bundle {}: cannot make it absolute: {}", bundle_dir, ec.message()),
              ErrorCause{ec.value(), "getcwd", bundle_dir}));
  }
  std::string out = absolute.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

Expected<Config> parse_config(std::string_view json_text, const std::string& bundle_dir) {
  auto bundle = absolute_bundle(bundle_dir);
  if (!bundle) return fail(std::move(bundle).error());
  if (json_text.size() > kMaxConfigSize) {
    return fail(config_invalid(
        fmt::format("{} bytes is more than the {} allowed", json_text.size(), kMaxConfigSize)));
  }
  json doc;
  try {
    doc = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    return fail(config_invalid(fmt::format("malformed JSON: {}", e.what())));
  }
  try {
    JsonNode root(doc, "");
    if (!doc.is_object()) {
      return fail(config_invalid(
          fmt::format("expected a JSON object, got {}", spec_detail::json_kind(doc))));
    }
    return parse_document(root, *bundle);
  } catch (const ConfigFieldError& e) {
    return fail(config_invalid(e.what()));
  } catch (const json::exception& e) {  // a getter this file forgot to guard; still no throw
    return fail(config_invalid(e.what()));
  }
}

Expected<Config> load_config(const std::string& bundle_dir) {
  auto bundle = absolute_bundle(bundle_dir);
  if (!bundle) return fail(std::move(bundle).error());
  const std::string path = *bundle + "/config.json";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return fail(Error(ErrorCode::ConfigInvalid,
                      fmt::format("config.json: cannot open {}: {}", path,
                                  std::error_code(e, std::system_category()).message()),
                      ErrorCause{e, "open", path}));
  }
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return fail(Error(ErrorCode::ConfigInvalid,
                        fmt::format("config.json: cannot read {}: {}", path,
                                    std::error_code(e, std::system_category()).message()),
                        ErrorCause{e, "read", path}));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigSize) {
      ::close(fd);
      return fail(config_invalid(
          fmt::format("{} is more than the {} bytes allowed", path, kMaxConfigSize), path));
    }
  }
  ::close(fd);
  auto config = parse_config(text, *bundle);
  if (!config) {
    Error error = std::move(config).error();
    return fail(Error(error.code(), error.message() + " (in " + path + ")", ErrorCause{0, {}, path},
                      error.timestamp()));
  }
  return config;
}

}  // namespace corral
