#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>

#include "reactor/child_process.hpp"
#include "reactor/ops.hpp"
#include "runtime/init_launch.hpp"

namespace corral {

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string read_tail(int fd, std::size_t limit) {
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return {};
  std::size_t length = std::min<std::size_t>(static_cast<std::size_t>(size), limit);
  std::string text(length, '\0');
  ssize_t n = ::pread(fd, text.data(), length, size - static_cast<off_t>(length));
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

nlohmann::json oci_state_json(const std::string& id, ContainerStatus status, pid_t pid,
                              const std::string& bundle,
                              const std::map<std::string, std::string>& annotations) {
  nlohmann::json j = {{"ociVersion", "1.0.2"},
                      {"id", id},
                      {"status", std::string(to_string(status))},
                      {"bundle", bundle}};
  if (pid > 0 && status != ContainerStatus::Stopped) j["pid"] = pid;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

namespace {

// A started hook: the pid and pidfd to wait on; `runtime_child` owns them when the hook runs in
// the runtime's namespaces, otherwise `pidfd` is ours to close.
struct StartedHook {
  pid_t pid = 0;
  int pidfd = -1;
  reactor::ChildProcess runtime_child;
  ~StartedHook() {
    if (runtime_child.pid() == 0 && pidfd >= 0) ::close(pidfd);
  }
};

Expected<void> start_hook(const Hook& hook, std::string kind, const ContainerNamespaces* in,
                          int stdin_fd, int stdout_fd, int stderr_fd, StartedHook& started) {
  std::vector<std::string> argv{hook.path};
  for (std::size_t i = 1; i < hook.args.size(); ++i) argv.push_back(hook.args[i]);
  // An empty environment would mean "inherit" to ChildProcess; a hook gets exactly its env.
  std::vector<std::string> env =
      hook.env.empty() ? std::vector<std::string>{"CORRAL_HOOK=" + kind} : hook.env;
  if (!in) {
    reactor::SpawnOptions options;
    options.argv = std::move(argv);
    options.env = std::move(env);
    options.stdin_fd = stdin_fd;
    options.stdout_fd = stdout_fd;
    options.stderr_fd = stderr_fd;
    auto child = reactor::ChildProcess::spawn(options);
    if (!child) return fail(Error::from_errno(child.error().value(), "exec", hook.path));
    started.runtime_child = std::move(*child);
    started.pid = started.runtime_child.pid();
    started.pidfd = started.runtime_child.pidfd();
    return {};
  }
  InitSpawn spawn;
  spawn.program = hook.path;
  spawn.argv = std::move(argv);
  spawn.env = std::move(env);
  spawn.stdio[0] = stdin_fd;
  spawn.stdio[1] = stdout_fd;
  spawn.stdio[2] = stderr_fd;
  const std::string proc = "/proc/" + std::to_string(in->init_pid) + "/ns/";
  for (NamespaceType type : in->types) {
    if (type == NamespaceType::Time) continue;
    if (type == NamespaceType::Pid)
      spawn.pid_namespace_path = proc + proc_ns_name(type);
    else
      spawn.join_namespaces.push_back(proc + proc_ns_name(type));
  }
  auto child = spawn_init(spawn);
  if (!child) return fail(std::move(child).error().with_context("in the container's namespaces"));
  started.pid = child->pid;
  started.pidfd = child->pidfd;
  return {};
}

}  // namespace

reactor::Task<Expected<void>> run_hook(const Hook& hook, std::string state_json, std::string kind,
                                       std::string container_id, const ContainerNamespaces* in) {
  std::string name = "container " + container_id + ": " + kind + " hook " + hook.path;
  // The state goes over a socket, not a pipe: a hook that exits or closes its stdin without
  // reading makes our send EPIPE (MSG_NOSIGNAL), where a pipe write would kill the whole
  // runtime (or an embedding supervisor) with SIGPIPE.
  int stdin_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) < 0)
    co_return fail(Error::from_errno(errno, name + ": socketpair", hook.path));
  Fd read_end(stdin_pair[0]), write_end(stdin_pair[1]);
  ::shutdown(read_end.fd, SHUT_WR);
  ::shutdown(write_end.fd, SHUT_RD);
  Fd errors(::memfd_create("corral-hook-stderr", MFD_CLOEXEC));
  Fd null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (errors.fd < 0 || null_fd.fd < 0)
    co_return fail(Error::from_errno(errno, name + ": open stdio", hook.path));

  StartedHook child;
  auto started = start_hook(hook, kind, in, read_end.fd, null_fd.fd, errors.fd, child);
  read_end.reset();
  if (!started) co_return fail(std::move(started).error().with_context(name));

  // The state goes in while the hook runs (it may exceed the socket's buffer); a hook that does
  // not read its stdin is not an error.
  std::size_t written = 0;
  while (written < state_json.size()) {
    auto n = co_await reactor::send(write_end.fd, state_json.data() + written,
                                    state_json.size() - written);
    if (!n || *n == 0) break;
    written += *n;
  }
  write_end.reset();

  bool timed_out = false;
  if (hook.timeout_seconds && *hook.timeout_seconds > 0) {
    auto ready = co_await reactor::poll(child.pidfd, POLLIN)
                     .with_timeout(std::chrono::seconds(*hook.timeout_seconds));
    if (!ready && ready.error().value() == ETIME) {
      timed_out = true;
      ::syscall(SYS_pidfd_send_signal, child.pidfd, SIGKILL, nullptr, 0);
    }
  }
  auto exit = co_await reactor::wait_for_child_exit(child.pid, child.pidfd);
  if (!exit) co_return fail(Error::from_errno(exit.error().value(), name + ": wait", hook.path));
  if (timed_out)
    co_return fail(Error(
        ErrorCode::SystemError,
        name + ": timed out after " + std::to_string(*hook.timeout_seconds) + "s and was killed",
        ErrorCause{ETIMEDOUT, "run hook", hook.path}));
  if (exit->code != CLD_EXITED || exit->status != 0) {
    std::string how = exit->code == CLD_EXITED
                          ? "exited with status " + std::to_string(exit->status)
                          : "was killed by signal " + std::to_string(exit->status);
    std::string err = read_tail(errors.fd, 2048);
    co_return fail(Error(ErrorCode::SystemError,
                         name + ": " + how + (err.empty() ? "" : ": " + err),
                         ErrorCause{0, "run hook", hook.path}));
  }
  co_return Expected<void>{};
}

reactor::Task<Expected<void>> run_hooks(const std::vector<Hook>& hooks, std::string state_json,
                                        std::string kind, std::string container_id,
                                        const ContainerNamespaces* in) {
  for (const auto& hook : hooks) {
    auto result = co_await run_hook(hook, state_json, kind, container_id, in);
    if (!result) co_return result;
  }
  co_return Expected<void>{};
}

namespace {

nlohmann::json hook_list(const std::vector<Hook>& hooks) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& h : hooks) {
    nlohmann::json j = {{"path", h.path}};
    if (!h.args.empty()) j["args"] = h.args;
    if (!h.env.empty()) j["env"] = h.env;
    if (h.timeout_seconds) j["timeout"] = *h.timeout_seconds;
    list.push_back(std::move(j));
  }
  return list;
}

std::vector<Hook> hooks_of(const nlohmann::json& json, const char* key) {
  std::vector<Hook> out;
  auto it = json.find(key);
  if (it == json.end() || !it->is_array()) return out;
  for (const auto& j : *it) {
    if (!j.is_object() || !j.contains("path") || !j["path"].is_string()) continue;
    Hook h;
    h.path = j["path"].get<std::string>();
    if (j.contains("args") && j["args"].is_array())
      for (const auto& a : j["args"])
        if (a.is_string()) h.args.push_back(a.get<std::string>());
    if (j.contains("env") && j["env"].is_array())
      for (const auto& e : j["env"])
        if (e.is_string()) h.env.push_back(e.get<std::string>());
    if (j.contains("timeout") && j["timeout"].is_number_integer())
      h.timeout_seconds = j["timeout"].get<int>();
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

nlohmann::json hooks_to_json(const Hooks& hooks) {
  return {{"prestart", hook_list(hooks.prestart)},
          {"createRuntime", hook_list(hooks.create_runtime)},
          {"createContainer", hook_list(hooks.create_container)},
          {"startContainer", hook_list(hooks.start_container)},
          {"poststart", hook_list(hooks.poststart)},
          {"poststop", hook_list(hooks.poststop)}};
}

Hooks hooks_from_json(const nlohmann::json& json) {
  Hooks h;
  if (!json.is_object()) return h;
  h.prestart = hooks_of(json, "prestart");
  h.create_runtime = hooks_of(json, "createRuntime");
  h.create_container = hooks_of(json, "createContainer");
  h.start_container = hooks_of(json, "startContainer");
  h.poststart = hooks_of(json, "poststart");
  h.poststop = hooks_of(json, "poststop");
  return h;
}

}  // namespace corral
