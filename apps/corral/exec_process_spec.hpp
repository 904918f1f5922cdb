#pragma once
// The process `corral exec` runs, built as runc builds it: --process FILE replaces the
// container's process entirely; without it the container's own process (config.json's) is the
// base, with the command line's args. Then the flags override: --env adds, --cwd replaces,
// --user/--additional-gids replace the ids, --cap adds to the bounding, effective and permitted
// sets (and ambient, when the base has an inheritable set), --no-new-privs and --tty set.
#include <optional>

#include "apps/corral/cli_args.hpp"
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

// `container_process` is the running container's process (nullopt: it has none recorded);
// `from_file` is the parsed --process FILE when given.
Expected<Process> build_exec_process(const ExecOptions& options,
                                     const std::optional<Process>& container_process,
                                     std::optional<Process> from_file);

}  // namespace corral::cli
