#pragma once
// The Linux capability names corral knows (all of linux 6.x, CAP_CHOWN = 0 ...
// CAP_CHECKPOINT_RESTORE = 40), as a static table so that corral_spec needs no libcap.
#include <optional>
#include <span>
#include <string_view>

namespace corral {

// The capability number of "CAP_SYS_ADMIN"; nullopt for a name the kernel does not define.
std::optional<int> capability_number(std::string_view name);
// The highest capability number in the table.
int last_known_capability();
// Every name, indexed by capability number (what `corral features` advertises).
std::span<const std::string_view> capability_names();

}  // namespace corral
