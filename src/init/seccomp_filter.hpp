#pragma once
// linux.seccomp as a libseccomp filter. Syscall names this architecture does not know are
// skipped (as runc does: a profile lists syscalls of every architecture). Notify is refused: it
// needs a listener fd handed to the runtime, which corral does not implement yet.
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

// Builds and loads the filter. Does not force no_new_privs: with noNewPrivileges false the
// caller loads it while it still has CAP_SYS_ADMIN.
Expected<void> load_seccomp(const Seccomp& seccomp);

}  // namespace corral::init
