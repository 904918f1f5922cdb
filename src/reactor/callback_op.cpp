#include "reactor/callback_op.hpp"

#include "reactor/reactor.hpp"

namespace corral::reactor {

void CallbackOp::start(const Operation& op, Done done, void* context) {
  op_ = op;
  op_.owner = this;
  op_.complete = &CallbackOp::on_complete;
  done_ = done;
  context_ = context;
  Reactor::require_current().submit(op_);
}

void CallbackOp::cancel() {
  if (op_.in_flight) Reactor::require_current().cancel(op_);
}

void CallbackOp::on_complete(Operation& op) {
  auto* self = static_cast<CallbackOp*>(op.owner);
  self->done_(self->context_, op.result);  // last: it may destroy *self
}

}  // namespace corral::reactor
