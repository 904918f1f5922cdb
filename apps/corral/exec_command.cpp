// `corral exec`: a further process in a running container, through Container::exec. In the
// foreground corral waits for it, forwarding the signals it receives, and exits with its
// status (127/126 when it could not be executed, 128+N when signal N killed it); with --detach
// it writes --pid-file and returns at once.
#include <fmt/format.h>
#include <unistd.h>

#include <memory>

#include "apps/corral/commands.hpp"
#include "apps/corral/console_socket.hpp"
#include "apps/corral/exec_process_spec.hpp"
#include "apps/corral/foreground_terminal.hpp"
#include "apps/corral/pid_file.hpp"
#include "apps/corral/process_file.hpp"
#include "apps/corral/signal_forwarding.hpp"
#include "reactor/reactor.hpp"
#include "runtime/factory.hpp"

namespace corral::cli {
namespace {}  // namespace

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

  // A terminal goes to --console-socket, or, in the foreground without one, is relayed by
  // corral itself (as `run` does); runc's rules otherwise.
  ForegroundTerminal foreground;
  const bool relay = process->terminal && !options.detach && options.console_socket.empty();
  if (!relay)
    if (auto checked = check_console_options(options.id, process->terminal, options.detach,
                                             options.console_socket);
        !checked)
      return fail(std::move(checked).error());
  ProcessIo io{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, options.preserve_fds, -1};
  int connected = -1;
  if (relay) {
    auto end = foreground.prepare();
    if (!end) return fail(std::move(end).error().with_context("exec in container " + options.id));
    io.console_socket_fd = *end;
  } else if (!options.console_socket.empty()) {
    auto socket = connect_console_socket(options.console_socket);
    if (!socket)
      return fail(std::move(socket).error().with_context("exec in container " + options.id));
    connected = io.console_socket_fd = *socket;
  }

  // Blocked before the process exists, so a signal sent to corral meanwhile is not lost.
  std::optional<ForwardedSignals> signals;
  if (!options.detach) signals.emplace();

  reactor::Reactor reactor;
  auto started = reactor.block_on((*container)->exec(std::move(*process), io));
  if (connected >= 0) ::close(connected);
  if (!started) return fail(std::move(started).error());
  std::unique_ptr<ExecProcess> handle = std::move(*started);
  if (relay)
    if (auto received = foreground.receive_master(options.id); !received)
      return fail(std::move(received).error());
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
  auto exit = reactor.block_on(wait_in_foreground(
      exec.wait(), *signals, [&exec](int sig) { (void)exec.signal(sig); },
      foreground.relaying() ? &foreground : nullptr));
  if (!exit) return fail(std::move(exit).error());
  const int shell = shell_status(*exit);
  return shell < 0 ? 255 : shell;
}

}  // namespace corral::cli
