#include "reactor/held_callback_op.hpp"

namespace corral::reactor {

bool HeldCallbackOp::start(Operation op, const HeldFile& file, Done done, void* context) {
  if (!detail::held_file_is_live(file)) return false;
  op.fixed_file = file.is_direct();
  done_ = done;
  context_ = context;
  link_.file = file;
  inner_.start(op, &HeldCallbackOp::on_complete, this);
  // Linked before any completion can come (they are handled by the loop, not in submit).
  detail::link_held_op(link_, inner_.operation());
  return true;
}

void HeldCallbackOp::on_complete(void* context, int result) {
  auto* self = static_cast<HeldCallbackOp*>(context);
  // Unlinked first: the callback may release the file, start the next operation on it, or
  // destroy this object.
  if (self->link_.table != nullptr) detail::unlink_held_op(self->link_);
  self->done_(self->context_, result);
}

}  // namespace corral::reactor
