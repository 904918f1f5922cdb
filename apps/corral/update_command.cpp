// `corral update`: new cgroup limits for a running (or paused, or created) container, from
// -r FILE and the flags (update_resources.hpp), applied by Container::update.
#include "apps/corral/commands.hpp"
#include "apps/corral/update_resources.hpp"
#include "runtime/factory.hpp"

namespace corral::cli {

Expected<void> run_update(const CommandContext& context, const UpdateOptions& options) {
  auto resources = update_resources(options, context.in);
  if (!resources) return fail(std::move(resources).error());
  auto factory = Factory::create(context.global.root);
  if (!factory) return fail(std::move(factory).error());
  auto container = factory->load(options.id);
  if (!container) return fail(std::move(container).error());
  return (*container)->update(*resources);
}

}  // namespace corral::cli
