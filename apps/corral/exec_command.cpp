// `corral exec`: a further process in a running container, through Container::exec. In the
// foreground corral waits for it, forwarding the signals it receives, and exits with its
// status (127/126 when it could not be executed, 128+N when signal N killed it); with --detach
// it writes --pid-file and returns at once.
#include <fmt/format.h>
#include <unistd.h>

#include <memory>

#include "apps/corral/commands.hpp"
#include "apps/corral/exec_process_spec.hpp"
#include "apps/corral/pid_file.hpp"
#include "apps/corral/process_file.hpp"
#include "apps/corral/signal_forwarding.hpp"
#include "reactor/reactor.hpp"
#include "runtime/factory.hpp"

namespace corral::cli {
namespace {

Error exec_error(const ExecOptions& options, std::string_view why) {
  return Error(ErrorCode::Unsupported, fmt::format("exec in container {}: {}", options.id, why));
}

// Terminal and fd options this exec path cannot honour yet are refused, never ignored.
Expected<void> check_supported(const ExecOptions& options, const Process& process) {
  if (process.terminal)
    return fail(exec_error(options,
                           "a terminal (--tty or process.terminal) is not supported for "
                           "exec yet"));
  if (!options.console_socket.empty())
    return fail(exec_error(options, "--console-socket is not supported for exec yet"));
  if (options.preserve_fds > 0)
    return fail(exec_error(options, "--preserve-fds is not supported for exec yet"));
  return {};
}

}  // namespace

// The handle of a detached exec, kept reachable until exit (external linkage, so that the store
// is not optimised away and the leak checker sees it as reachable).
ExecProcess* detached_exec_process = nullptr;

Expected<int> run_exec(const CommandContext& context, const ExecOptions& options) {
  std::optional<Process> from_file;
  if (!options.process_file.empty()) {
    auto loaded = load_process_file(options.process_file);
    if (!loaded) return fail(std::move(loaded).error());
    from_file = std::move(*loaded);
  }
  auto factory = Factory::create(context.global.root);
  if (!factory) return fail(std::move(factory).error());
  auto container = factory->load(options.id);
  if (!container) return fail(std::move(container).error());
  const ContainerStatus status = (*container)->status();
  if (status == ContainerStatus::Stopped)
    return fail(Error(ErrorCode::ContainerNotRunning,
                      fmt::format("exec in container {}: it is stopped", options.id)));
  if (status == ContainerStatus::Paused)
    return fail(Error(ErrorCode::ContainerPaused,
                      fmt::format("exec in container {}: it is paused", options.id)));

  auto process = build_exec_process(options, (*container)->config().process, std::move(from_file));
  if (!process) return fail(std::move(process).error());
  if (auto supported = check_supported(options, *process); !supported)
    return fail(std::move(supported).error());

  // Blocked before the process exists, so a signal sent to corral meanwhile is not lost.
  std::optional<ForwardedSignals> signals;
  if (!options.detach) signals.emplace();

  reactor::Reactor reactor;
  auto started = reactor.block_on(
      (*container)
          ->exec(std::move(*process), ProcessIo{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}));
  if (!started) return fail(std::move(started).error());
  std::unique_ptr<ExecProcess> handle = std::move(*started);
  if (!options.pid_file.empty())
    if (auto written = write_pid_file(options.pid_file, handle->pid()); !written)
      return fail(std::move(written).error());

  if (options.detach) {
    // ExecProcess kills a process nobody waited for when it is destroyed; a detached one must
    // outlive corral, so its handle is kept (reachable) until corral exits, and the process is
    // reparented then.
    detached_exec_process = handle.release();
    return 0;
  }
  ExecProcess& exec = *handle;
  auto exit = reactor.block_on(
      wait_forwarding_signals(exec.wait(), *signals, [&exec](int sig) { (void)exec.signal(sig); }));
  if (!exit) return fail(std::move(exit).error());
  const int shell = shell_status(*exit);
  return shell < 0 ? 255 : shell;
}

}  // namespace corral::cli
