#include "libcorral/asio_supervisor.hpp"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>

namespace corral {
namespace {

class CorralCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "corral"; }
  std::string message(int value) const override {
    // value = ErrorCode + 1: an error_code of 0 means success.
    return std::string(to_string(static_cast<ErrorCode>(value - 1)));
  }
};

// The reactor thread's whole life: make the ring, open the supervisor, serve, shut down.
void reactor_thread_main(asio_detail::AdapterCore& core, AsioSupervisorOptions options,
                         std::promise<Expected<void>>& ready) {
  ::pthread_setname_np(::pthread_self(), "corral-reactor");
  std::optional<reactor::Reactor> reactor;
  try {
    reactor.emplace(options.reactor);
  } catch (const std::exception& e) {
    ready.set_value(fail(Error(ErrorCode::SystemError,
                               std::string("open supervisor: start its reactor: ") + e.what())));
    return;
  }
  auto opened = supervisor::Supervisor::open(options.supervisor);
  if (!opened) {
    ready.set_value(fail(std::move(opened).error()));
    return;
  }
  std::unique_ptr<supervisor::Supervisor> sup = std::move(*opened);
  if (options.recover) {
    auto recovered = reactor->block_on(sup->recover());
    if (!recovered) {
      reactor->block_on(sup->shutdown(false));
      ready.set_value(fail(std::move(recovered).error()));
      return;
    }
  }
  core.attach(*reactor, *sup);
  ready.set_value({});
  reactor->block_on(core.serve(options.stop_containers_on_stop));
  core.detach();
  sup.reset();
}

}  // namespace

const std::error_category& corral_category() noexcept {
  static const CorralCategory category;
  return category;
}

std::error_code to_error_code(const Error& error) {
  return {static_cast<int>(error.code()) + 1, corral_category()};
}

Expected<std::unique_ptr<AsioSupervisor>> AsioSupervisor::open(executor_type executor,
                                                               AsioSupervisorOptions options) {
  auto core = std::make_shared<asio_detail::AdapterCore>();
  std::promise<Expected<void>> ready;
  std::future<Expected<void>> opened = ready.get_future();
  std::thread thread([core, options = std::move(options), ready = std::move(ready)]() mutable {
    reactor_thread_main(*core, std::move(options), ready);
  });
  Expected<void> result = opened.get();
  if (!result) {
    thread.join();
    return fail(std::move(result).error());
  }
  std::unique_ptr<AsioSupervisor> adapter(new AsioSupervisor(std::move(executor), core));
  adapter->thread_ = std::move(thread);
  return adapter;
}

AsioSupervisor::~AsioSupervisor() {
  stop();
}

void AsioSupervisor::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    std::fprintf(stderr, "corral asio adapter: stop() called on its own reactor thread\n");
    std::abort();
  }
  (void)core_->request_stop();
  thread_.join();
}

EventSubscription AsioSupervisor::subscribe(std::size_t capacity) {
  auto queue = std::make_shared<asio_detail::EventQueue>(capacity);
  if (!core_->post([core = core_, queue] { core->add_subscription(queue); }))
    queue->close(Error(ErrorCode::SystemError, "subscribe to events: the supervisor is stopped"));
  return EventSubscription(core_, queue, executor_);
}

reactor::Task<Expected<void>> AsioSupervisor::kill_now(supervisor::Supervisor& sup, std::string id,
                                                       int signal, bool all) {
  co_return sup.kill(id, signal, all);
}

reactor::Task<Expected<supervisor::ContainerInfo>> AsioSupervisor::state_now(
    supervisor::Supervisor& sup, std::string id) {
  co_return sup.state(id);
}

reactor::Task<Expected<std::vector<supervisor::ContainerInfo>>> AsioSupervisor::list_now(
    supervisor::Supervisor& sup) {
  co_return sup.list();
}

}  // namespace corral
