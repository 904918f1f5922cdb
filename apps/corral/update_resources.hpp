#pragma once
// `corral update`: the new limits as corral::Resources. The -r file (a JSON linux.resources
// object, as in config.json; "-" reads stdin) is the base, and each flag overrides its field.
#include <istream>
#include <string_view>

#include "apps/corral/cli_args.hpp"
#include "runtime/resources_json.hpp"  // parse_resources_json
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::cli {

// Applies the flags of `options` over `base`.
Resources apply_update_flags(Resources base, const UpdateOptions& options);

// The whole of it: reads options.resources_file (stdin for "-") when set, then the flags.
Expected<Resources> update_resources(const UpdateOptions& options, std::istream& stdin_stream);

}  // namespace corral::cli
