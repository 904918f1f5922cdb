#pragma once
// A write to a pipe whose reader may be gone (a child that died during setup). A plain write
// would raise SIGPIPE, which kills the runtime or an embedding supervisor unless the process
// ignores it; a library must not count on that, nor change the process's dispositions.
#include <sys/types.h>

#include <cstddef>

namespace corral {

// write(2) with SIGPIPE blocked in the calling thread: a reader gone is -1 with errno EPIPE.
// A SIGPIPE this write raises is consumed; one already pending for the thread is left alone.
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t length);

}  // namespace corral
