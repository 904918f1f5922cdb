#include "runtime/spec/protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include <nlohmann/json.hpp>

#include "runtime/spec/config_names.hpp"

namespace corral::protocol {

using nlohmann::json;

namespace {

Error pipe_error(std::string message, int errno_value = 0) {
  return Error(ErrorCode::SystemError, "init pipe: " + std::move(message),
               ErrorCause{errno_value, "init pipe", {}});
}

constexpr std::string_view kSyncNames[] = {"procReady",  "procRun",    "procError",
                                           "procHooks",  "procResume", "procExecFailed",
                                           "procCreated"};

// ---- Config <-> JSON ------------------------------------------------------------------------
// Field names follow the OCI spec where it has one; derived fields use corral's own names.

// The spec's own names ("network", "mount"), shared with the config parser.
NamespaceType parse_namespace(const std::string& name) {
  if (auto type = parse_namespace_type(name)) return *type;
  throw std::invalid_argument("unknown namespace type \"" + name + "\"");
}

template <class T>
void put_optional(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

template <class T>
void get_optional(const json& j, const char* key, std::optional<T>& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) out = it->get<T>();
}

template <class T>
void get_if_present(const json& j, const char* key, T& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) it->get_to(out);
}

json id_mappings_to_json(const std::vector<IdMapping>& maps) {
  json a = json::array();
  for (const auto& m : maps)
    a.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  return a;
}

std::vector<IdMapping> id_mappings_from_json(const json& j, const char* key) {
  std::vector<IdMapping> out;
  if (auto it = j.find(key); it != j.end())
    for (const auto& m : *it)
      out.push_back({m.at("containerID").get<std::uint32_t>(), m.at("hostID").get<std::uint32_t>(),
                     m.at("size").get<std::uint32_t>()});
  return out;
}

json process_to_json(const Process& p) {
  json j = {{"terminal", p.terminal},
            {"user",
             {{"uid", p.user.uid},
              {"gid", p.user.gid},
              {"additionalGids", p.user.additional_gids},
              {"username", p.user.username}}},
            {"args", p.args},
            {"env", p.env},
            {"cwd", p.cwd},
            {"noNewPrivileges", p.no_new_privileges},
            {"apparmorProfile", p.apparmor_profile},
            {"selinuxLabel", p.selinux_label}};
  put_optional(j["user"], "umask", p.user.umask);
  put_optional(j, "oomScoreAdj", p.oom_score_adj);
  if (p.console_size)
    j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  if (p.capabilities) {
    const auto& c = *p.capabilities;
    j["capabilities"] = {{"bounding", c.bounding},
                         {"effective", c.effective},
                         {"inheritable", c.inheritable},
                         {"permitted", c.permitted},
                         {"ambient", c.ambient}};
  }
  json rl = json::array();
  for (const auto& r : p.rlimits)
    rl.push_back({{"resource", r.resource}, {"type", r.name}, {"soft", r.soft}, {"hard", r.hard}});
  j["rlimits"] = rl;
  return j;
}

Process process_from_json(const json& j) {
  Process p;
  get_if_present(j, "terminal", p.terminal);
  if (auto it = j.find("consoleSize"); it != j.end())
    p.console_size = ConsoleSize{it->at("height").get<unsigned>(), it->at("width").get<unsigned>()};
  const json& u = j.at("user");
  u.at("uid").get_to(p.user.uid);
  u.at("gid").get_to(p.user.gid);
  get_optional(u, "umask", p.user.umask);
  get_if_present(u, "additionalGids", p.user.additional_gids);
  get_if_present(u, "username", p.user.username);
  j.at("args").get_to(p.args);
  get_if_present(j, "env", p.env);
  get_if_present(j, "cwd", p.cwd);
  if (auto it = j.find("capabilities"); it != j.end()) {
    Capabilities c;
    get_if_present(*it, "bounding", c.bounding);
    get_if_present(*it, "effective", c.effective);
    get_if_present(*it, "inheritable", c.inheritable);
    get_if_present(*it, "permitted", c.permitted);
    get_if_present(*it, "ambient", c.ambient);
    p.capabilities = std::move(c);
  }
  if (auto it = j.find("rlimits"); it != j.end())
    for (const auto& r : *it)
      p.rlimits.push_back({r.at("resource").get<int>(), r.at("type").get<std::string>(),
                           r.at("soft").get<std::uint64_t>(), r.at("hard").get<std::uint64_t>()});
  get_if_present(j, "noNewPrivileges", p.no_new_privileges);
  get_optional(j, "oomScoreAdj", p.oom_score_adj);
  get_if_present(j, "apparmorProfile", p.apparmor_profile);
  get_if_present(j, "selinuxLabel", p.selinux_label);
  return p;
}

json seccomp_to_json(const Seccomp& s) {
  json j = {{"defaultAction", static_cast<int>(s.default_action)},
            {"architectures", s.architectures},
            {"flags", s.flags}};
  put_optional(j, "defaultErrnoRet", s.default_errno_ret);
  json calls = json::array();
  for (const auto& c : s.syscalls) {
    json call = {{"names", c.names}, {"action", static_cast<int>(c.action)}};
    put_optional(call, "errnoRet", c.errno_ret);
    json args = json::array();
    for (const auto& a : c.args)
      args.push_back({{"index", a.index},
                      {"value", a.value},
                      {"valueTwo", a.value_two},
                      {"op", static_cast<int>(a.op)}});
    call["args"] = args;
    calls.push_back(call);
  }
  j["syscalls"] = calls;
  return j;
}

template <class Enum>
Enum enum_from_json(const json& j, Enum last) {
  int v = j.get<int>();
  if (v < 0 || v > static_cast<int>(last))
    throw std::invalid_argument("enum value " + std::to_string(v) + " out of range");
  return static_cast<Enum>(v);
}

Seccomp seccomp_from_json(const json& j) {
  Seccomp s;
  s.default_action = enum_from_json(j.at("defaultAction"), SeccompAction::Notify);
  get_optional(j, "defaultErrnoRet", s.default_errno_ret);
  get_if_present(j, "architectures", s.architectures);
  get_if_present(j, "flags", s.flags);
  if (auto it = j.find("syscalls"); it != j.end())
    for (const auto& c : *it) {
      SeccompSyscall call;
      c.at("names").get_to(call.names);
      call.action = enum_from_json(c.at("action"), SeccompAction::Notify);
      get_optional(c, "errnoRet", call.errno_ret);
      if (auto args = c.find("args"); args != c.end())
        for (const auto& a : *args)
          call.args.push_back({a.at("index").get<unsigned>(), a.at("value").get<std::uint64_t>(),
                               a.at("valueTwo").get<std::uint64_t>(),
                               enum_from_json(a.at("op"), SeccompOperator::MaskedEqual)});
      s.syscalls.push_back(std::move(call));
    }
  return s;
}

json mount_to_json(const Mount& m) {
  return {{"destination", m.destination},
          {"type", m.type},
          {"source", m.source},
          {"options", m.options},
          {"flags", m.flags},
          {"clearFlags", m.clear_flags},
          {"propagationFlags", m.propagation_flags},
          {"data", m.data}};
}

Mount mount_from_json(const json& j) {
  Mount m;
  j.at("destination").get_to(m.destination);
  get_if_present(j, "type", m.type);
  get_if_present(j, "source", m.source);
  get_if_present(j, "options", m.options);
  get_if_present(j, "flags", m.flags);
  get_if_present(j, "clearFlags", m.clear_flags);
  get_if_present(j, "propagationFlags", m.propagation_flags);
  get_if_present(j, "data", m.data);
  return m;
}

json device_to_json(const Device& d) {
  json j = {
      {"path", d.path}, {"type", std::string(1, d.type)}, {"major", d.major}, {"minor", d.minor}};
  put_optional(j, "fileMode", d.file_mode);
  put_optional(j, "uid", d.uid);
  put_optional(j, "gid", d.gid);
  return j;
}

Device device_from_json(const json& j) {
  Device d;
  j.at("path").get_to(d.path);
  auto type = j.at("type").get<std::string>();
  if (type.size() != 1) throw std::invalid_argument("device type \"" + type + "\"");
  d.type = type[0];
  j.at("major").get_to(d.major);
  j.at("minor").get_to(d.minor);
  get_optional(j, "fileMode", d.file_mode);
  get_optional(j, "uid", d.uid);
  get_optional(j, "gid", d.gid);
  return d;
}

Expected<json> parse_object(std::string_view frame, const char* what) {
  json j = json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(pipe_error(std::string(what) + " is not valid JSON"));
  if (!j.is_object()) return fail(pipe_error(std::string(what) + " is not a JSON object"));
  return j;
}

}  // namespace

// ---- names -----------------------------------------------------------------------------------

std::string_view to_string(SyncType type) {
  return kSyncNames[static_cast<int>(type)];
}

bool parse_sync_type(std::string_view name, SyncType& out) {
  for (std::size_t i = 0; i < std::size(kSyncNames); ++i)
    if (kSyncNames[i] == name) {
      out = static_cast<SyncType>(i);
      return true;
    }
  return false;
}

std::string_view to_string(InitType type) {
  return type == InitType::Standard ? "standard" : "setns";
}

bool parse_init_type(std::string_view name, InitType& out) {
  if (name == "standard")
    out = InitType::Standard;
  else if (name == "setns")
    out = InitType::Setns;
  else
    return false;
  return true;
}

// ---- Config ----------------------------------------------------------------------------------

json config_to_json(const Config& c) {
  json j = {{"ociVersion", c.oci_version},
            {"bundle", c.bundle},
            {"root", {{"path", c.root.path}, {"readonly", c.root.readonly}}},
            {"hostname", c.hostname},
            {"domainname", c.domainname},
            {"annotations", c.annotations}};
  if (c.process) j["process"] = process_to_json(*c.process);
  json mounts = json::array();
  for (const auto& m : c.mounts) mounts.push_back(mount_to_json(m));
  j["mounts"] = mounts;

  const Linux& l = c.linux_spec;
  json namespaces = json::array();
  for (const auto& ns : l.namespaces)
    namespaces.push_back({{"type", std::string(to_string(ns.type))}, {"path", ns.path}});
  json devices = json::array();
  for (const auto& d : l.devices) devices.push_back(device_to_json(d));
  json linux_json = {{"namespaces", namespaces},
                     {"uidMappings", id_mappings_to_json(l.uid_mappings)},
                     {"gidMappings", id_mappings_to_json(l.gid_mappings)},
                     {"devices", devices},
                     {"cgroupsPath", l.cgroups_path},
                     {"sysctl", l.sysctl},
                     {"maskedPaths", l.masked_paths},
                     {"readonlyPaths", l.readonly_paths},
                     {"rootfsPropagation", l.rootfs_propagation},
                     {"mountLabel", l.mount_label}};
  if (l.seccomp) linux_json["seccomp"] = seccomp_to_json(*l.seccomp);
  j["linux"] = linux_json;
  return j;
}

Expected<Config> config_from_json(const json& j) {
  try {
    Config c;
    get_if_present(j, "ociVersion", c.oci_version);
    get_if_present(j, "bundle", c.bundle);
    if (auto it = j.find("process"); it != j.end()) c.process = process_from_json(*it);
    const json& root = j.at("root");
    root.at("path").get_to(c.root.path);
    get_if_present(root, "readonly", c.root.readonly);
    get_if_present(j, "hostname", c.hostname);
    get_if_present(j, "domainname", c.domainname);
    get_if_present(j, "annotations", c.annotations);
    if (auto it = j.find("mounts"); it != j.end())
      for (const auto& m : *it) c.mounts.push_back(mount_from_json(m));
    if (auto it = j.find("linux"); it != j.end()) {
      const json& lj = *it;
      Linux& l = c.linux_spec;
      if (auto ns = lj.find("namespaces"); ns != lj.end())
        for (const auto& n : *ns)
          l.namespaces.push_back(
              {parse_namespace(n.at("type").get<std::string>()), n.value("path", "")});
      l.uid_mappings = id_mappings_from_json(lj, "uidMappings");
      l.gid_mappings = id_mappings_from_json(lj, "gidMappings");
      if (auto d = lj.find("devices"); d != lj.end())
        for (const auto& dev : *d) l.devices.push_back(device_from_json(dev));
      get_if_present(lj, "cgroupsPath", l.cgroups_path);
      get_if_present(lj, "sysctl", l.sysctl);
      get_if_present(lj, "maskedPaths", l.masked_paths);
      get_if_present(lj, "readonlyPaths", l.readonly_paths);
      get_if_present(lj, "rootfsPropagation", l.rootfs_propagation);
      get_if_present(lj, "mountLabel", l.mount_label);
      if (auto s = lj.find("seccomp"); s != lj.end()) l.seccomp = seccomp_from_json(*s);
    }
    return c;
  } catch (const std::exception& e) {
    return fail(pipe_error(std::string("malformed config: ") + e.what()));
  }
}

// ---- messages --------------------------------------------------------------------------------

std::string encode(const SyncMessage& message) {
  json j = {{"type", to_string(message.type)}};
  if (message.type == SyncType::ProcExecFailed) {
    j["errno"] = message.errno_value;
    j["path"] = message.path;
  }
  // Replace invalid UTF-8 (a path is bytes) rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
}

std::string encode(const Bootstrap& b) {
  json j = {{"type", "bootstrap"},
            {"initType", to_string(b.init_type)},
            {"id", b.container_id},
            {"bundle", b.bundle},
            {"config", config_to_json(b.config)},
            {"noPivot", b.no_pivot},
            {"consoleSocketFd", b.console_socket_fd},
            {"preservedFds", b.preserved_fds},
            {"execFifoPath", b.exec_fifo_path},
            {"execFifoFd", b.exec_fifo_fd}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
}

Expected<std::string> encode_for_init(Bootstrap bootstrap) {
  bootstrap.config.hooks = {};
  bootstrap.config.annotations.clear();
  std::string line = encode(bootstrap);
  if (line.size() > kMaxBootstrapSize)
    return fail(Error(ErrorCode::ConfigInvalid,
                      "container " + bootstrap.container_id + ": the configuration is " +
                          std::to_string(line.size()) + " bytes as sent to the init, over its " +
                          std::to_string(kMaxBootstrapSize) + "-byte limit",
                      ErrorCause{E2BIG, "encode bootstrap", bootstrap.bundle}));
  return line;
}

std::string encode_error(const Error& error) {
  return error.serialize() + '\n';
}

Expected<SyncMessage> decode_sync(std::string_view frame) {
  auto parsed = parse_object(frame, "sync message");
  if (!parsed) return fail(std::move(parsed).error());
  const json& j = *parsed;
  auto type = j.find("type");
  if (type == j.end() || !type->is_string())
    return fail(pipe_error("sync message has no \"type\" string"));
  SyncMessage m;
  const auto& name = type->get_ref<const std::string&>();
  if (!parse_sync_type(name, m.type))
    return fail(pipe_error("unknown sync message type \"" + name + "\""));
  if (m.type == SyncType::ProcExecFailed) {
    auto e = j.find("errno");
    auto p = j.find("path");
    if (e == j.end() || !e->is_number_integer() || p == j.end() || !p->is_string())
      return fail(pipe_error("procExecFailed needs an integer \"errno\" and a string \"path\""));
    m.errno_value = e->get<int>();
    m.path = p->get<std::string>();
  }
  return m;
}

Expected<Bootstrap> decode_bootstrap(std::string_view frame) {
  auto parsed = parse_object(frame, "bootstrap message");
  if (!parsed) return fail(std::move(parsed).error());
  const json& j = *parsed;
  try {
    if (j.value("type", "") != "bootstrap")
      return fail(pipe_error("expected the bootstrap message, got type \"" +
                             j.value("type", std::string("?")) + "\""));
    Bootstrap b;
    auto init_type = j.at("initType").get<std::string>();
    if (!parse_init_type(init_type, b.init_type))
      return fail(pipe_error("bootstrap: unknown initType \"" + init_type + "\""));
    j.at("id").get_to(b.container_id);
    get_if_present(j, "bundle", b.bundle);
    auto config = config_from_json(j.at("config"));
    if (!config) return fail(std::move(config).error());
    b.config = std::move(*config);
    get_if_present(j, "noPivot", b.no_pivot);
    get_if_present(j, "consoleSocketFd", b.console_socket_fd);
    get_if_present(j, "preservedFds", b.preserved_fds);
    get_if_present(j, "execFifoPath", b.exec_fifo_path);
    get_if_present(j, "execFifoFd", b.exec_fifo_fd);
    return b;
  } catch (const std::exception& e) {
    return fail(pipe_error(std::string("malformed bootstrap: ") + e.what()));
  }
}

Error decode_error(std::string_view frame) {
  return Error::deserialize(frame);
}

// ---- framing ---------------------------------------------------------------------------------

void FrameReader::feed(std::string_view bytes) {
  if (failed_) return;
  if (overflow_) {
    // Drop the rest of an over-long line; next() reports it.
    return;
  }
  pending_.append(bytes);
}

Expected<std::optional<std::string>> FrameReader::next() {
  if (failed_) return fail(*failed_);
  if (!overflow_) {
    auto newline = pending_.find('\n', scanned_);
    if (newline == std::string::npos) {
      scanned_ = pending_.size();
      if (pending_.size() >= max_frame_) overflow_ = true;
    } else if (newline + 1 > max_frame_) {
      overflow_ = true;
    } else {
      std::string frame = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      scanned_ = 0;
      if (frame.empty()) {
        failed_ = pipe_error("empty message line");
        return fail(*failed_);
      }
      return std::optional<std::string>(std::move(frame));
    }
  }
  if (overflow_) {
    failed_ = pipe_error("message exceeds " + std::to_string(max_frame_) + " bytes");
    pending_.clear();
    pending_.shrink_to_fit();
    return fail(*failed_);
  }
  if (eof_ && !pending_.empty()) {
    failed_ = pipe_error("truncated message: " + std::to_string(pending_.size()) +
                         " bytes without a newline at end of stream");
    return fail(*failed_);
  }
  return std::optional<std::string>();
}

Expected<std::string> read_frame(int fd, FrameReader& reader) {
  char buffer[4096];
  for (;;) {
    auto frame = reader.next();
    if (!frame) return fail(std::move(frame).error());
    if (*frame) return std::move(**frame);
    if (reader.at_eof()) return fail(pipe_error("end of stream while waiting for a message"));
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      return fail(pipe_error(std::string("read: ") + std::strerror(e), e));
    }
    if (n == 0)
      reader.feed_eof();
    else
      reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

Expected<void> write_all(int fd, std::string_view bytes) {
  bool is_socket = true;
  while (!bytes.empty()) {
    ssize_t n = is_socket ? ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL)
                          : ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == ENOTSOCK && is_socket) {
      is_socket = false;
      continue;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      return fail(pipe_error(std::string("write: ") + std::strerror(e), e));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace corral::protocol
