#pragma once
// The init binary as containers must see it: executable, never writable (CVE-2019-5736).
//
// A container process can open /proc/<pid>/exe of a process that runs our init (or make one,
// with a `#!/proc/self/exe` interpreter line in its image) and, if that opens for writing,
// overwrite the host's binary. So the runtime never execs the init by path: once per runtime
// process it makes a detached, read-only bind mount of the binary (open_tree(OPEN_TREE_CLONE) +
// mount_setattr(MOUNT_ATTR_RDONLY)) and every init is started with execveat(fd, "",
// AT_EMPTY_PATH) on it. /proc/<pid>/exe then names a file on a read-only mount that exists in
// no mount namespace: opening it for writing fails with EROFS, and it costs no memory at all.
// Only when the new mount API is missing (kernel < 5.12) does it fall back to a sealed memfd
// copy (F_SEAL_WRITE|SHRINK|GROW|SEAL), which is charged to the runtime once, never to a
// container.
#include <string>

#include "runtime/spec/error.hpp"

namespace corral {

enum class BinaryProtection { ReadOnlyMount, SealedMemfd };

struct ProtectedBinary {
  int fd = -1;  // close-on-exec; execveat(fd, "", argv, envp, AT_EMPTY_PATH) runs it
  BinaryProtection protection = BinaryProtection::ReadOnlyMount;
};

// Makes a new protected handle on `path` (the caller owns the fd).
Expected<ProtectedBinary> protect_binary(const std::string& path, BinaryProtection protection);

// The handle for `path` this process uses for every init: made on first use (read-only mount,
// else a sealed memfd, with the reason logged to stderr), then shared. Thread-safe; the fd lives
// as long as the process and must not be closed.
Expected<ProtectedBinary> protected_init_binary(const std::string& path);

}  // namespace corral
