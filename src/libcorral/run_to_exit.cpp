#include "libcorral/run_to_exit.hpp"

namespace corral {

reactor::Task<Expected<ExitRecord>> run_to_exit(supervisor::Supervisor& sup,
                                                supervisor::CreateRequest request,
                                                std::stop_token token) {
  std::string id = request.id;
  auto started = co_await sup.run(std::move(request));
  if (!started) co_return fail(std::move(started).error());
  co_return co_await sup.wait(std::move(id), std::move(token));
}

}  // namespace corral
