#pragma once
// run_to_exit: create and start a container, then wait for its exit. What an orchestrator
// usually means by "run": the answer is the exit status, not the started container.
#include <stop_token>

#include "reactor/task.hpp"
#include "runtime/supervisor/supervisor.hpp"

namespace corral {

// On the supervisor's reactor thread. A stop request on `token` ends the wait (not the
// container) with a SystemError saying it was cancelled.
reactor::Task<Expected<ExitRecord>> run_to_exit(supervisor::Supervisor& sup,
                                                supervisor::CreateRequest request,
                                                std::stop_token token = {});

}  // namespace corral
