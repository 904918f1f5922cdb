// corral: a container runtime with runc's command line, so that Podman, containerd and CRI-O can
// use it in runc's place. Parsing is in cli_args.cpp, the commands in commands.hpp.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "apps/corral/cli_args.hpp"
#include "apps/corral/commands.hpp"
#include "apps/corral/log.hpp"

using namespace corral::cli;

namespace {

// A log for reporting a failure: the --log file if it opens, else stderr (saying why).
Logger failure_logger(const GlobalOptions& global) {
  auto logger = Logger::open(global);
  if (logger) return std::move(*logger);
  std::cerr << "corral: " << logger.error().what() << "\n";
  return Logger(global.log_format, global.debug);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto invocation = parse_cli(args);
  if (!invocation) {
    const ParseFailure& failure = invocation.error();
    Logger log = failure_logger(failure.global);
    log.report_failure(failure.message);
    if (failure.usage_error) {
      std::cerr << fmt::format("Run 'corral {}--help' for usage.\n",
                               failure.command.empty() ? "" : failure.command + " ");
    }
    return 1;
  }
  auto log = Logger::open(invocation->global);
  if (!log) {
    std::cerr << "corral: " << log.error().what() << "\n";
    return 1;
  }
  return run_invocation(*invocation, *log, std::cout, std::cin);
}
