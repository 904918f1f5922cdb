#pragma once
// corral-init's entry point, the counterpart of runc's StartInitialization: it reads the init
// pipe fd (_LIBCONTAINER_INITPIPE) and the init type (_LIBCONTAINER_INITTYPE), clears the
// environment, reads the bootstrap message and becomes the container's process (see
// runtime/spec/protocol.hpp for the whole exchange). It returns only on failure, with the exit
// status to use; the error was already sent to the parent.
namespace corral::init {

int start_initialization();

}  // namespace corral::init
