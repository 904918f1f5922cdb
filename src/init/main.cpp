// corral-init: the small binary the runtime starts to become a container.
#include "init/init.hpp"

int main() {
  return corral::init::start_initialization();
}
