// corral-example-asio: an Asio program driving containers through corral::AsioSupervisor.
// The io_context runs on a thread of its own; the adapter runs the corral reactor (the ring's
// owner) on another. No second event loop is written here: only completion tokens.
//
// Three containers, three styles:
//   - a use_awaitable coroutine runs `sh -c 'exit 3'` and gets status 3;
//   - a plain callback runs `sh -c 'exit 5'` and gets status 5;
//   - futures (from main(), which is not an Asio thread) create, start and wait for
//     `sh -c 'exit 0'`.
// A second coroutine prints the event stream. Exit status 0 only if all three statuses are right.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include "example_bundle.hpp"
#include "example_init.hpp"
#include "libcorral/asio_supervisor.hpp"

using corral::AsioSupervisor;
using corral::ExitRecord;
using corral::Expected;
using corral::supervisor::CreateRequest;

namespace {

bool check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  return ok;
}

bool exited_with(const Expected<ExitRecord>& exit, int status) {
  return exit && exit->known && exit->code == CLD_EXITED && exit->status == status;
}

std::string describe(const Expected<ExitRecord>& exit) {
  if (!exit) return "error: " + exit.error().what();
  if (!exit->known) return "unknown status";
  return (exit->code == CLD_EXITED ? "exited " : "killed by signal ") +
         std::to_string(exit->status);
}

asio::awaitable<void> print_events(corral::EventSubscription& events) {
  for (;;) {
    Expected<corral::supervisor::Event> event =
        co_await events.async_next_event(asio::use_awaitable);
    if (!event) {
      std::printf("event stream ended: %s\n", event.error().what().c_str());
      co_return;
    }
    std::printf("event %s\n", event->to_json().dump().c_str());
  }
}

asio::awaitable<bool> run_with_awaitable(AsioSupervisor& sup, CreateRequest request) {
  Expected<ExitRecord> exit = co_await sup.async_run(request, asio::use_awaitable);
  co_return check(exited_with(exit, 3),
                  "use_awaitable: " + request.id + " " + describe(exit) + " (want exited 3)");
}

}  // namespace

int main(int argc, char** argv) {
  auto init = corral::examples::find_init(argc, argv);
  if (!init) {
    std::fprintf(stderr, "corral-example-asio: %s\n", init.error().what().c_str());
    return 2;
  }
  auto bundles = corral::examples::ExampleBundles::make();
  if (!bundles) {
    std::fprintf(stderr, "corral-example-asio: %s\n", bundles.error().what().c_str());
    return 1;
  }
  auto exit3 = bundles->bundle("exit3", {"sh", "-c", "exit 3"});
  auto exit5 = bundles->bundle("exit5", {"sh", "-c", "exit 5"});
  auto exit0 = bundles->bundle("exit0", {"sh", "-c", "exit 0"});
  if (!exit3 || !exit5 || !exit0) {
    std::fprintf(stderr, "corral-example-asio: cannot write the bundles under %s\n",
                 bundles->dir().c_str());
    return 1;
  }
  const std::string suffix = "-" + std::to_string(::getpid());

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });

  corral::AsioSupervisorOptions options;
  options.supervisor.root = bundles->supervisor_root();
  options.supervisor.factory.init_path = *init;
  auto opened = AsioSupervisor::open(io.get_executor(), options);
  if (!opened) {
    std::fprintf(stderr, "corral-example-asio: %s\n", opened.error().what().c_str());
    work.reset();
    io_thread.join();
    return 1;
  }
  AsioSupervisor& sup = **opened;

  corral::EventSubscription events = sup.subscribe();
  asio::co_spawn(io, print_events(events), asio::detached);

  // A coroutine on the io_context; its future tells main() the verdict.
  std::future<bool> awaited =
      asio::co_spawn(io, run_with_awaitable(sup, {.id = "asio-exit3" + suffix, .bundle = *exit3}),
                     asio::use_future);

  // A callback: it runs on io's thread (the adapter's executor), never on the reactor's.
  std::promise<bool> called_back;
  CreateRequest exit5_request{.id = "asio-exit5" + suffix, .bundle = *exit5};
  sup.async_run(exit5_request, [&called_back, id = exit5_request.id](Expected<ExitRecord> exit) {
    called_back.set_value(
        check(exited_with(exit, 5), "callback: " + id + " " + describe(exit) + " (want exited 5)"));
  });

  // Futures, from a thread that is not Asio's.
  bool ok = true;
  CreateRequest exit0_request{.id = "asio-exit0" + suffix, .bundle = *exit0};
  auto created = sup.async_create(exit0_request, asio::use_future).get();
  ok &= check(bool(created), "future: create " + exit0_request.id +
                                 (created ? "" : ": " + created.error().what()));
  if (created) {
    auto started = sup.async_start(exit0_request.id, asio::use_future).get();
    ok &= check(bool(started), "future: start " + exit0_request.id +
                                   (started ? "" : ": " + started.error().what()));
    Expected<ExitRecord> exit = sup.async_wait(exit0_request.id, asio::use_future).get();
    ok &= check(exited_with(exit, 0),
                "future: " + exit0_request.id + " " + describe(exit) + " (want exited 0)");
  }
  ok &= awaited.get();
  ok &= called_back.get_future().get();

  // Leave nothing behind, then stop the adapter (it ends the event stream) and the io thread.
  auto listed = sup.async_list(asio::use_future).get();
  if (listed) {
    for (const auto& info : *listed) {
      auto removed = sup.async_remove(info.id, true, asio::use_future).get();
      ok &= check(bool(removed),
                  "remove " + info.id + (removed ? "" : ": " + removed.error().what()));
    }
  }
  sup.stop();
  work.reset();
  io_thread.join();
  std::printf("%s\n",
              ok ? "corral-example-asio: all statuses as expected" : "corral-example-asio: FAILED");
  return ok ? 0 : 1;
}
