#include "reactor/held_callback_op.hpp"

#include <cerrno>

#include "reactor/reactor.hpp"

namespace corral::reactor {

bool HeldCallbackOp::start(Operation op, const HeldFile& file, Done done, void* context) {
  if (!detail::held_file_is_live(file)) return false;
  op_ = op;
  op_.fixed_file = file.is_direct();
  op_.owner = this;
  op_.complete = &HeldCallbackOp::on_complete;
  done_ = done;
  context_ = context;
  link_.file = file;
  detail::link_held_op(link_, op_);
  Reactor::require_current().submit(op_);
  return true;
}

void HeldCallbackOp::cancel() {
  if (op_.in_flight) Reactor::require_current().cancel(op_);
}

void HeldCallbackOp::on_complete(Operation& op) {
  auto* self = static_cast<HeldCallbackOp*>(op.owner);
  // Unlinked first: the callback may release the file, start the next operation on it, or
  // destroy this object.
  if (self->link_.table != nullptr) detail::unlink_held_op(self->link_);
  self->done_(self->context_, op.result);
}

}  // namespace corral::reactor
