#pragma once
// One part of a config document given on its own (`exec --process FILE`'s process object,
// `update -r FILE`'s linux.resources), parsed by the config.json parser itself so that it
// accepts and refuses exactly what config.json does, with the same messages.
#include <string_view>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral {

// Parses `json_text`, which must be a JSON object, as the member at `pointer` (a JSON pointer:
// "/process", "/linux/resources") of a minimal config document. Errors name `source`; a text
// that is not an object is refused as not being `expected` ("a JSON object of resources").
Expected<Config> parse_config_fragment(std::string_view json_text, std::string_view source,
                                       std::string_view pointer, std::string_view expected);

}  // namespace corral
