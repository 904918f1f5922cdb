// Placeholder until the Asio epoll backend lands: refuses plainly instead of pretending.
#include <cstdio>
#include <cstdlib>

#include "reactor/backend.hpp"

namespace corral::reactor {
std::unique_ptr<Backend> make_epoll_backend() {
  std::fprintf(stderr, "corral reactor: the epoll backend is not built yet\n");
  std::abort();
}
}  // namespace corral::reactor
