// corral::AsioSupervisor: the Supervisor driven from Asio through completion tokens, with the
// reactor on the adapter's own thread. Real busybox containers.
#include "libcorral/asio_supervisor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

#include "cli/temp_dir.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral {
namespace {

using supervisor::ContainerInfo;
using supervisor::CreateRequest;
using supervisor::Event;
using ::testing::HasSubstr;

// An io_context with a thread of its own running it.
class IoThread {
 public:
  IoThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    work_.reset();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// The memory cgroup directory a process is in (v1: "N:memory:/path").
std::string memory_cgroup_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (line.compare(colon + 1, 7, "memory:") == 0)
      return "/sys/fs/cgroup/memory" + line.substr(colon + 8);
  }
  return {};
}

bool exited_with(const Expected<ExitRecord>& exit, int status) {
  return exit && exit->known && exit->code == CLD_EXITED && exit->status == status;
}

class AsioSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "makes real containers: run as root";
    rootfs_ = dir_.file("rootfs");
    std::filesystem::create_directories(rootfs_ + "/bin");
    // Mount points made up front: inits of containers created at once from one rootfs would
    // otherwise race to mkdir them (the init takes the loser's EEXIST for an error).
    for (const char* mount_point : {"dev", "proc", "sys"})
      std::filesystem::create_directories(rootfs_ + "/" + mount_point);
    std::filesystem::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* tool : {"sh", "sleep"})
      std::filesystem::create_symlink("busybox", rootfs_ + "/bin/" + tool);
    open_adapter();
  }

  void TearDown() override {
    if (!sup_) return;
    auto listed = sup_->async_list(asio::use_future).get();
    ASSERT_TRUE(listed) << listed.error().what();
    for (const auto& info : *listed) {
      auto removed = sup_->async_remove(info.id, true, asio::use_future).get();
      EXPECT_TRUE(removed) << removed.error().what();
    }
    sup_.reset();
  }

  void open_adapter() {
    AsioSupervisorOptions options;
    options.supervisor.root = dir_.file("root");
    options.supervisor.factory.init_path = CORRAL_BINARY_DIR "/src/init/corral-init";
    auto opened = AsioSupervisor::open(io_.io().get_executor(), options);
    ASSERT_TRUE(opened) << opened.error().what();
    sup_ = std::move(*opened);
  }

  CreateRequest request(const std::string& name, std::vector<std::string> args) {
    std::string bundle = dir_.file("bundle-" + name);
    std::filesystem::create_directories(bundle);
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = std::move(args);
    spec["process"]["terminal"] = false;
    spec["root"]["path"] = rootfs_;
    std::ofstream(bundle + "/config.json") << spec.dump();
    return CreateRequest{"asio-" + name + "-" + std::to_string(::getpid()), bundle};
  }

  // Creates and starts a container that runs until it is killed.
  ContainerInfo start_sleeper(const std::string& name) {
    auto started = sup_->async_create(request(name, {"sleep", "600"}), asio::use_future).get();
    EXPECT_TRUE(started) << started.error().what();
    if (!started) return {};
    auto running = sup_->async_start(started->id, asio::use_future).get();
    EXPECT_TRUE(running) << running.error().what();
    return running ? *running : ContainerInfo{};
  }

  cli::testing::TempDir dir_;
  std::string rootfs_;
  IoThread io_;
  std::unique_ptr<AsioSupervisor> sup_;
};

TEST_F(AsioSupervisorTest, RunWithUseAwaitableCompletesWithTheExitStatus) {
  CreateRequest req = request("awaitable", {"sh", "-c", "exit 3"});
  std::future<Expected<ExitRecord>> exit = asio::co_spawn(
      io_.io(),
      [&]() -> asio::awaitable<Expected<ExitRecord>> {
        co_return co_await sup_->async_run(req, asio::use_awaitable);
      },
      asio::use_future);
  Expected<ExitRecord> got = exit.get();
  ASSERT_TRUE(got) << got.error().what();
  EXPECT_TRUE(got->known);
  EXPECT_EQ(got->code, CLD_EXITED);
  EXPECT_EQ(got->status, 3);
}

TEST_F(AsioSupervisorTest, APendingOperationKeepsItsIoContextRunning) {
  // No work guard: run() returns when nothing is left to do, which must not be while the
  // container still runs, or the coroutine would never see its status.
  asio::io_context io;
  CreateRequest req = request("work", {"sh", "-c", "exit 2"});
  std::optional<Expected<ExitRecord>> seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        seen.emplace(co_await sup_->async_run(req, asio::use_awaitable));
      },
      asio::detached);
  io.run();
  ASSERT_TRUE(seen.has_value()) << "io_context::run() returned under a pending async_run";
  EXPECT_TRUE(exited_with(*seen, 2));
}

TEST_F(AsioSupervisorTest, CallbackRunsOnTheAdaptersExecutorThread) {
  CreateRequest req = request("callback", {"sh", "-c", "exit 5"});
  std::promise<std::pair<Expected<ExitRecord>, std::thread::id>> done;
  sup_->async_run(req, [&done](Expected<ExitRecord> exit) {
    done.set_value({std::move(exit), std::this_thread::get_id()});
  });
  auto [exit, thread] = done.get_future().get();
  EXPECT_TRUE(exited_with(exit, 5))
      << (exit ? "status " + std::to_string(exit->status) : exit.error().what());
  EXPECT_EQ(thread, io_.id());
}

TEST_F(AsioSupervisorTest, FuturesCreateStartAndWait) {
  CreateRequest req = request("future", {"sh", "-c", "exit 0"});
  auto created = sup_->async_create(req, asio::use_future).get();
  ASSERT_TRUE(created) << created.error().what();
  EXPECT_EQ(created->status, "created");
  auto started = sup_->async_start(req.id, asio::use_future).get();
  ASSERT_TRUE(started) << started.error().what();
  auto exit = sup_->async_wait(req.id, asio::use_future).get();
  EXPECT_TRUE(exited_with(exit, 0)) << (exit ? "" : exit.error().what());
  auto state = sup_->async_state(req.id, asio::use_future).get();
  ASSERT_TRUE(state) << state.error().what();
  EXPECT_EQ(state->status, "stopped");
}

TEST_F(AsioSupervisorTest, WaitsFromTwoAsioThreadsBothSeeTheKill) {
  ContainerInfo info = start_sleeper("two-waiters");
  ASSERT_GT(info.pid, 0);
  IoThread other;
  using Answer = std::pair<Expected<ExitRecord>, std::thread::id>;
  std::promise<Answer> first, second;
  // Each wait is initiated on, and completes on, a different io_context's thread.
  asio::post(io_.io(), [&] {
    sup_->async_wait(info.id, [&first](Expected<ExitRecord> exit) {
      first.set_value({std::move(exit), std::this_thread::get_id()});
    });
  });
  asio::post(other.io(), [&] {
    sup_->async_wait(info.id, asio::bind_executor(other.io(), [&second](Expected<ExitRecord> exit) {
                       second.set_value({std::move(exit), std::this_thread::get_id()});
                     }));
  });
  auto killed = sup_->async_kill(info.id, SIGKILL, false, asio::use_future).get();
  ASSERT_TRUE(killed) << killed.error().what();
  for (auto* answer : {&first, &second}) {
    auto [exit, thread] = answer->get_future().get();
    ASSERT_TRUE(exit) << exit.error().what();
    EXPECT_EQ(exit->code, CLD_KILLED);
    EXPECT_EQ(exit->status, SIGKILL);
    EXPECT_EQ(thread, answer == &first ? io_.id() : other.id());
  }
}

TEST_F(AsioSupervisorTest, EventStreamSeesCreatedStartedExited) {
  EventSubscription events = sup_->subscribe();
  CreateRequest req = request("events", {"sh", "-c", "exit 4"});
  auto exit = sup_->async_run(req, asio::use_future).get();
  ASSERT_TRUE(exited_with(exit, 4));
  std::vector<std::string> seen;
  std::optional<ExitRecord> exited;
  while (seen.size() < 3) {
    Expected<Event> event = events.async_next_event(asio::use_future).get();
    ASSERT_TRUE(event) << event.error().what();
    EXPECT_EQ(event->id, req.id);
    seen.push_back(std::string(supervisor::to_string(event->type)));
    if (event->exit) exited = event->exit;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"created", "started", "exited"}));
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->status, 4);
}

TEST_F(AsioSupervisorTest, ASlowReaderLearnsHowManyEventsWereDropped) {
  EventSubscription events = sup_->subscribe(1);
  CreateRequest req = request("dropped", {"sh", "-c", "exit 0"});
  ASSERT_TRUE(exited_with(sup_->async_run(req, asio::use_future).get(), 0));
  // created and started were pushed out of the one-event queue by exited.
  Expected<Event> gap = events.async_next_event(asio::use_future).get();
  ASSERT_FALSE(gap);
  EXPECT_THAT(gap.error().what(), HasSubstr("2 events were dropped"));
  Expected<Event> last = events.async_next_event(asio::use_future).get();
  ASSERT_TRUE(last) << last.error().what();
  EXPECT_EQ(last->type, supervisor::EventType::Exited);
}

TEST_F(AsioSupervisorTest, AForeignThreadMayCallAndItsHandlerRunsOnTheExecutor) {
  CreateRequest req = request("foreign", {"sh", "-c", "exit 6"});
  std::promise<std::pair<Expected<ExitRecord>, std::thread::id>> done;
  std::thread foreign([&] {
    sup_->async_run(req, [&done](Expected<ExitRecord> exit) {
      done.set_value({std::move(exit), std::this_thread::get_id()});
    });
  });
  foreign.join();
  auto [exit, thread] = done.get_future().get();
  EXPECT_TRUE(exited_with(exit, 6));
  EXPECT_EQ(thread, io_.id());
}

TEST_F(AsioSupervisorTest, ErrorsArriveOnTheHandlerNamingTheContainer) {
  auto started = sup_->async_start("nope", asio::use_future).get();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), ErrorCode::ContainerNotExists);
  EXPECT_THAT(started.error().what(), HasSubstr("nope"));
  EXPECT_EQ(to_error_code(started.error()).message(), "ContainerNotExists");

  auto waited = sup_->async_wait("nope", asio::use_future).get();
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code(), ErrorCode::ContainerNotExists);

  auto killed = sup_->async_kill("nope", SIGTERM, false, asio::use_future).get();
  ASSERT_FALSE(killed);
  EXPECT_EQ(killed.error().code(), ErrorCode::ContainerNotExists);

  CreateRequest bad = request("bad-bundle", {"sh"});
  bad.bundle = dir_.file("missing-bundle");
  std::promise<Expected<ExitRecord>> ran;
  sup_->async_run(bad, [&ran](Expected<ExitRecord> exit) { ran.set_value(std::move(exit)); });
  auto exit = ran.get_future().get();
  ASSERT_FALSE(exit);
  EXPECT_THAT(exit.error().what(), HasSubstr(bad.id));
}

TEST_F(AsioSupervisorTest, CancellingAWaitLeavesTheContainerRunning) {
  using namespace asio::experimental::awaitable_operators;
  ContainerInfo info = start_sleeper("cancelled-wait");
  ASSERT_GT(info.pid, 0);
  // The timer is already due: the || cancels the wait, which can only end that way (the
  // container sleeps until it is killed).
  auto outcome = asio::co_spawn(
      io_.io(),
      [&]() -> asio::awaitable<std::variant<Expected<ExitRecord>, std::monostate>> {
        asio::steady_timer due(co_await asio::this_coro::executor);
        co_return co_await (sup_->async_wait(info.id, asio::use_awaitable) ||
                            due.async_wait(asio::use_awaitable));
      },
      asio::use_future);
  auto which = outcome.get();
  EXPECT_EQ(which.index(), 1u);
  auto state = sup_->async_state(info.id, asio::use_future).get();
  ASSERT_TRUE(state) << state.error().what();
  EXPECT_EQ(state->status, "running");
  // The next wait is not disturbed by the cancelled one.
  ASSERT_TRUE(sup_->async_kill(info.id, SIGKILL, false, asio::use_future).get());
  auto exit = sup_->async_wait(info.id, asio::use_future).get();
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_EQ(exit->status, SIGKILL);
}

TEST_F(AsioSupervisorTest, CancellingANextEventKeepsTheStreamUsable) {
  using namespace asio::experimental::awaitable_operators;
  EventSubscription events = sup_->subscribe();
  // Nothing happens until the container below is created: only the cancellation can end it.
  auto outcome = asio::co_spawn(
      io_.io(),
      [&]() -> asio::awaitable<std::variant<Expected<Event>, std::monostate>> {
        asio::steady_timer due(co_await asio::this_coro::executor);
        co_return co_await (events.async_next_event(asio::use_awaitable) ||
                            due.async_wait(asio::use_awaitable));
      },
      asio::use_future);
  EXPECT_EQ(outcome.get().index(), 1u);
  CreateRequest req = request("after-cancel", {"sh", "-c", "exit 0"});
  ASSERT_TRUE(exited_with(sup_->async_run(req, asio::use_future).get(), 0));
  Expected<Event> created = events.async_next_event(asio::use_future).get();
  ASSERT_TRUE(created) << created.error().what();
  EXPECT_EQ(created->type, supervisor::EventType::Created);
  EXPECT_EQ(created->id, req.id);
}

TEST_F(AsioSupervisorTest, StopCancelsWaitsKeepsContainersAndARemoveLeavesNothing) {
  ContainerInfo one = start_sleeper("kept-1");
  ContainerInfo two = start_sleeper("kept-2");
  ASSERT_GT(one.pid, 0);
  ASSERT_GT(two.pid, 0);
  std::string cgroup = memory_cgroup_of(one.pid);
  ASSERT_FALSE(cgroup.empty());
  ASSERT_TRUE(std::filesystem::exists(cgroup)) << cgroup;
  EventSubscription events = sup_->subscribe();

  std::promise<Expected<ExitRecord>> pending;
  sup_->async_wait(one.id,
                   [&pending](Expected<ExitRecord> exit) { pending.set_value(std::move(exit)); });
  sup_.reset();  // stop(): the reactor thread shuts the supervisor down and is joined

  auto cancelled = pending.get_future().get();
  ASSERT_FALSE(cancelled);
  EXPECT_THAT(cancelled.error().what(), HasSubstr("cancelled"));
  // The stream ends after what was already queued.
  Expected<Event> event = events.async_next_event(asio::use_future).get();
  while (event) event = events.async_next_event(asio::use_future).get();
  EXPECT_THAT(event.error().what(), HasSubstr("stopped"));
  EXPECT_EQ(::kill(one.pid, 0), 0) << "the container keeps running after the adapter stopped";
  EXPECT_EQ(::kill(two.pid, 0), 0);

  // A new adapter on the same root adopts both; removing them leaves nothing behind.
  open_adapter();
  auto listed = sup_->async_list(asio::use_future).get();
  ASSERT_TRUE(listed) << listed.error().what();
  EXPECT_EQ(listed->size(), 2u);
  for (const auto& id : {one.id, two.id}) {
    auto removed = sup_->async_remove(id, true, asio::use_future).get();
    EXPECT_TRUE(removed) << removed.error().what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("root/containers")));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("root/supervised")));
  EXPECT_FALSE(std::filesystem::exists(cgroup)) << cgroup;
  // The inits are gone (killed, and reaped by whoever was their parent: this process).
  for (pid_t pid : {one.pid, two.pid}) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string fields;
    std::getline(stat, fields);
    EXPECT_TRUE(fields.empty() || fields.find(") Z") != std::string::npos)
        << "pid " << pid << " still alive: " << fields;
  }
}

TEST_F(AsioSupervisorTest, CallsAfterStopCompleteWithAnError) {
  sup_->stop();
  auto state = sup_->async_state("anything", asio::use_future).get();
  ASSERT_FALSE(state);
  EXPECT_THAT(state.error().what(), HasSubstr("stopped"));
  EventSubscription events = sup_->subscribe();
  auto event = events.async_next_event(asio::use_future).get();
  ASSERT_FALSE(event);
  sup_.reset();
}

}  // namespace
}  // namespace corral
