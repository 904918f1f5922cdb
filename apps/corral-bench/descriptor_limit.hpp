#pragma once
// The descriptor limit every peer runs under. One supervisor holding 10,000 containers keeps
// several descriptors per container (corrald: a pidfd and the log file even once the container
// has stopped, until it is deleted), more than a shell's usual 1,024 or 20,000: the harness
// raises its own RLIMIT_NOFILE, soft and hard, as far as the kernel allows (fs.nr_open, at
// most 1,048,576) before it starts any peer, and every peer inherits the same limit.
#include <cstdint>

namespace corral::bench {

// Returns the soft limit now in force (unchanged when it cannot be raised).
std::uint64_t raise_descriptor_limit();

}  // namespace corral::bench
