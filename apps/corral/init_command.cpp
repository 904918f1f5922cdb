// `corral init`: runc's container-side entry point. corral starts the separate corral-init
// binary for that, so a hand-made call is answered, not obeyed.
#include "apps/corral/commands.hpp"

namespace corral::cli {

Expected<void> run_init(const CommandContext&, const InitOptions&) {
  return fail(Error(ErrorCode::Unsupported,
                    "init: internal to the runtime; corral runs the corral-init binary as the "
                    "container's init, not `corral init`"));
}

}  // namespace corral::cli
