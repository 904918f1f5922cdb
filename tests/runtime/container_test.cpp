// Real containers, as root, on a busybox rootfs: the whole life through Factory and Container.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "init/busybox_rootfs.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "runtime/factory.hpp"
#include "runtime/init_launch.hpp"
#include "runtime/spec/protocol.hpp"
#include "runtime/state_store.hpp"

namespace corral {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_file;

int count_lines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}
int count_entries(const std::string& dir) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = rootfs_.work_dir() + "/state";
    FactoryOptions options;
    options.init_path = std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
    options.cgroup_parent = "/corral-test-" + std::to_string(::getpid());
    auto f = Factory::create(root_, options);
    ASSERT_TRUE(f) << f.error().what();
    factory_.emplace(std::move(*f));
    for (const char* applet : {"dd", "tr", "head", "seq", "cat"}) {
      std::error_code ec;
      fs::create_symlink("busybox", rootfs_.rootfs() + "/bin/" + applet, ec);
    }
    out_path_ = rootfs_.work_dir() + "/out";
    err_path_ = rootfs_.work_dir() + "/err";
  }
  void TearDown() override {
    std::error_code ec;
    // The per-test cgroup parent, in every hierarchy (empty once each test destroyed its groups).
    std::string name = "corral-test-" + std::to_string(::getpid());
    // A killed container's last tasks may still be leaving its group: retry EBUSY a while.
    for (auto it = fs::directory_iterator("/sys/fs/cgroup", ec);
         !ec && it != fs::directory_iterator(); ++it) {
      const std::string dir = (it->path() / name).string();
      for (int attempt = 0; attempt < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++attempt)
        ::usleep(20'000);
    }
  }

  // Runs args to the end; returns the shell status. stdout/stderr go to out_/err_.
  int run_to_end(const std::string& id, Config config, std::string* error = nullptr) {
    auto c = factory_->create_container(id, std::move(config));
    EXPECT_TRUE(c) << c.error().what();
    if (!c) return -1;
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto ran = (*c)->run_blocking({-1, out, err});
    ::close(out);
    ::close(err);
    if (!ran) {
      if (error) *error = ran.error().what();
      EXPECT_EQ(ran.error().code(), ErrorCode::SystemError);
      return -1;
    }
    auto exit = (*c)->wait_blocking();
    EXPECT_TRUE(exit) << exit.error().what();
    EXPECT_TRUE((*c)->destroy_blocking());
    return exit ? shell_status(*exit) : -1;
  }

  testing::BusyboxRootfs rootfs_;
  std::string root_, out_path_, err_path_;
  std::optional<Factory> factory_;
};

TEST_F(ContainerTest, ExitStatusesAndExecFailureMessages) {
  EXPECT_EQ(run_to_end("true", rootfs_.config({"true"})), 0);
  EXPECT_EQ(run_to_end("three", rootfs_.config({"sh", "-c", "echo hi; exit 3"})), 3);
  EXPECT_EQ(read_file(out_path_), "hi\n");
  EXPECT_EQ(run_to_end("killed", rootfs_.config({"sh", "-c", "sh -c 'kill -9 $$'; exit $?"})), 137);
  EXPECT_EQ(run_to_end("missing", rootfs_.config({"asdlfkjasldkfj"})), 127);
  EXPECT_NE(
      read_file(err_path_).find("exec: \"asdlfkjasldkfj\": executable file not found in $PATH"),
      std::string::npos)
      << read_file(err_path_);
  EXPECT_EQ(run_to_end("noexec", rootfs_.config({"/etc/passwd"})), 126);
  EXPECT_NE(read_file(err_path_).find("exec: \"/etc/passwd\": permission denied"),
            std::string::npos)
      << read_file(err_path_);
  EXPECT_EQ(count_entries(root_), 0);
}

// Joined namespaces: a network namespace is joined by the init's first process while it still
// shares the supervisor's memory; a time namespace cannot be joined that way (the kernel wants
// a single-threaded caller), so that init is forked. Both must start.
TEST_F(ContainerTest, AnInitJoinsNetworkAndTimeNamespacesByPath) {
  auto joining = [&](NamespaceType type, const std::string& path) {
    Config config = rootfs_.config({"true"});
    auto& namespaces = config.linux_spec.namespaces;
    std::erase_if(namespaces, [&](const Namespace& ns) { return ns.type == type; });
    namespaces.push_back({type, path});
    return config;
  };
  std::string error;
  EXPECT_EQ(run_to_end("joins-net", joining(NamespaceType::Network, "/proc/self/ns/net"), &error),
            0)
      << error;
  EXPECT_EQ(run_to_end("joins-time", joining(NamespaceType::Time, "/proc/self/ns/time"), &error), 0)
      << error;
  EXPECT_EQ(count_entries(root_), 0);
}

// The supervisor's storm path: the exit is learnt without reaping, kept in memory only (its
// journal holds it), the init reaped, and state.json written when asked.
TEST_F(ContainerTest, ADeferredExitReachesStateJsonOnlyWhenSaved) {
  auto c = factory_->create_container("deferred", rootfs_.config({"sh", "-c", "exit 5"}));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->run_blocking({}));
  reactor::Reactor reactor;
  Expected<std::optional<ExitRecord>> exited = std::optional<ExitRecord>{};
  for (int i = 0; i < 500 && exited && !*exited; ++i) {
    exited = (*c)->peek_exit();
    if (exited && !*exited) ::usleep(10'000);
  }
  ASSERT_TRUE(exited && *exited) << "the init did not exit";
  const pid_t pid = (*c)->init_pid();
  reactor.block_on((*c)->record_and_reap(**exited, Container::ExitWrite::Deferred));
  EXPECT_TRUE((*c)->state_unsaved());
  EXPECT_EQ((*c)->state().exit->status, 5);
  // Reaped: the pid is no longer our child.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  auto on_disk = [&] { return StateStore(root_).load("deferred"); };
  ASSERT_TRUE(on_disk());
  EXPECT_FALSE(on_disk()->exit) << "written before it was asked for";
  auto saved = reactor.block_on((*c)->save_unsaved());
  ASSERT_TRUE(saved) << saved.error().what();
  EXPECT_FALSE((*c)->state_unsaved());
  ASSERT_TRUE(on_disk() && on_disk()->exit);
  EXPECT_EQ(on_disk()->exit->status, 5);
  EXPECT_EQ(on_disk()->status, ContainerStatus::Stopped);
  EXPECT_TRUE((*c)->destroy_blocking());
  EXPECT_EQ(count_entries(root_), 0);
}

TEST_F(ContainerTest, ExecFailureIsExposed) {
  auto c = factory_->create_container("expose", rootfs_.config({"asdlfkjasldkfj"}));
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->run_blocking());
  auto exit = (*c)->wait_blocking();
  ASSERT_TRUE(exit);
  EXPECT_EQ(shell_status(*exit), 127);
  ASSERT_TRUE((*c)->exec_failure());
  EXPECT_EQ((*c)->exec_failure()->errno_value, ENOENT);
  EXPECT_EQ((*c)->exec_failure()->path, "asdlfkjasldkfj");
  // The exit is on disk for whoever loads it next.
  auto loaded = factory_->load("expose");
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->status(), ContainerStatus::Stopped);
  ASSERT_TRUE((*loaded)->state().exit);
  EXPECT_EQ(shell_status(*(*loaded)->state().exit), 127);
  EXPECT_TRUE((*c)->destroy_blocking());
}

struct Snapshot {
  int mounts, fds, state_dirs, cgroup_dirs;
  bool operator==(const Snapshot&) const = default;
};

TEST_F(ContainerTest, SetupFailuresLeaveNothingBehind) {
  std::string parent = "/sys/fs/cgroup/pids/corral-test-" + std::to_string(::getpid());
  auto snapshot = [&] {
    return Snapshot{count_lines("/proc/self/mountinfo"), count_entries("/proc/self/fd"),
                    count_entries(root_), count_entries(parent)};
  };
  // Warm up: the cgroup parent exists from now on.
  EXPECT_EQ(run_to_end("warm", rootfs_.config({"true"})), 0);
  Snapshot before = snapshot();

  Config bad_mount = rootfs_.config({"true"});
  Mount m;
  m.destination = "/mnt";
  m.type = "bind";
  m.source = rootfs_.work_dir() + "/no-such-source";
  m.flags = MS_BIND;
  bad_mount.mounts.push_back(m);
  std::string error;
  EXPECT_EQ(run_to_end("badmount", bad_mount, &error), -1);
  EXPECT_NE(error.find("no-such-source"), std::string::npos) << error;
  EXPECT_NE(error.find("badmount"), std::string::npos) << error;
  EXPECT_EQ(snapshot(), before);

  Config bad_cwd = rootfs_.config({"true"});
  bad_cwd.process->cwd = "/no/such/cwd";
  EXPECT_EQ(run_to_end("badcwd", bad_cwd, &error), -1);
  EXPECT_NE(error.find("/no/such/cwd"), std::string::npos) << error;
  EXPECT_EQ(snapshot(), before);

  // Over the init's bootstrap limit: said so, not a broken init pipe.
  Config huge = rootfs_.config({"true"});
  huge.process->env.push_back("BIG=" + std::string(2 << 20, 'x'));
  {
    auto c = factory_->create_container("huge", std::move(huge));
    ASSERT_TRUE(c) << c.error().what();
    auto ran = (*c)->run_blocking({-1, -1, -1});
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error().code(), ErrorCode::ConfigInvalid);
    EXPECT_NE(ran.error().what().find("container huge: the configuration is"), std::string::npos)
        << ran.error().what();
  }
  EXPECT_EQ(snapshot(), before);
  // Nobody is left in the cgroup parent.
  EXPECT_EQ(read_file(parent + "/cgroup.procs"), "");
}

// process.terminal needs a console socket to send the pty master to: without one, create
// refuses before starting anything and gives the id back.
TEST_F(ContainerTest, ATerminalWithoutAConsoleSocketIsRefusedAndLeavesNothing) {
  Config config = rootfs_.config({"true"});
  config.process->terminal = true;
  auto c = factory_->create_container("tty", std::move(config));
  ASSERT_TRUE(c) << c.error().what();
  auto created = (*c)->create_blocking();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_NE(created.error().what().find("no console socket"), std::string::npos)
      << created.error().what();
  EXPECT_FALSE(fs::exists(root_ + "/tty"));
}

TEST_F(ContainerTest, CreateThenStartFromAnotherProcess) {
  auto c = factory_->create_container("split", rootfs_.config({"sh", "-c", "exit 7"}));
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->create_blocking()) << "create";
  EXPECT_EQ((*c)->status(), ContainerStatus::Created);
  EXPECT_TRUE(fs::exists(root_ + "/split/exec.fifo"));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    FactoryOptions options;
    options.init_path = std::string(CORRAL_BINARY_DIR) + "/src/init/corral-init";
    auto f = Factory::create(root_, options);
    if (!f) ::_exit(2);
    auto loaded = f->load("split");
    if (!loaded || (*loaded)->status() != ContainerStatus::Created) ::_exit(3);
    ::_exit((*loaded)->start_blocking() ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto exit = (*c)->wait_blocking();
  ASSERT_TRUE(exit);
  EXPECT_EQ(shell_status(*exit), 7);
  EXPECT_FALSE(fs::exists(root_ + "/split/exec.fifo"));
  EXPECT_TRUE((*c)->destroy_blocking());
}

// corrald parks a running container's configuration: it is not held in memory, state.json keeps
// recording it unchanged, and it is read back from there (with `update`'s limits on top).
TEST_F(ContainerTest, AParkedConfigurationIsRecordedAndReadBackFromStateJson) {
  Config config = rootfs_.config({"sleep", "1000"});
  config.hooks.poststop.push_back(Hook{"/bin/true", {"true", "poststop"}, {"A=1"}, 5});
  Resources limits;
  limits.pids = PidsResources{64};
  config.linux_spec.resources = limits;
  auto c = factory_->create_container("parked", config);
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->run_blocking());
  const nlohmann::json recorded = StateStore(root_).load("parked")->config;
  ASSERT_TRUE(recorded.contains("corral")) << recorded.dump();
  ASSERT_TRUE(recorded.contains("linux_resources")) << recorded.dump();
  const nlohmann::json original = protocol::config_to_json((*c)->config());

  (*c)->park_config();
  EXPECT_TRUE((*c)->config_parked());
  ASSERT_TRUE((*c)->pause());  // writes state.json, carrying the recorded configuration over
  EXPECT_TRUE((*c)->config_parked());
  EXPECT_EQ(StateStore(root_).load("parked")->config, recorded);
  ASSERT_TRUE((*c)->resume());
  Resources change;
  change.pids = PidsResources{32};
  ASSERT_TRUE((*c)->update(change));
  EXPECT_TRUE((*c)->config_parked());

  // exec needs the namespaces: it reads the configuration back.
  Process p = *config.process;
  p.args = {"true"};
  reactor::Reactor reactor;
  auto exit = reactor.block_on([&]() -> reactor::Task<Expected<ExitRecord>> {
    auto e = co_await (*c)->exec(p, {});
    if (!e) co_return fail(std::move(e).error());
    co_return co_await (*e)->wait();
  }());
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_EQ(shell_status(*exit), 0);
  EXPECT_FALSE((*c)->config_parked());
  nlohmann::json expected = original;
  nlohmann::json got = protocol::config_to_json((*c)->config());
  EXPECT_EQ(got, expected);
  EXPECT_EQ((*c)->config().hooks.poststop.size(), 1u);
  // The limits (not in the "corral" form), as a restart creates the next run with: `update`'s
  // change wins over the created limit.
  ASSERT_TRUE((*c)->config().linux_spec.resources && (*c)->config().linux_spec.resources->pids);
  EXPECT_EQ((*c)->config().linux_spec.resources->pids->limit, 32);

  (*c)->park_config();
  ASSERT_TRUE((*c)->signal(SIGKILL, false));
  EXPECT_TRUE((*c)->wait_blocking());
  EXPECT_TRUE((*c)->destroy_blocking());  // its poststop hook comes from state.json
  EXPECT_EQ(count_entries(root_), 0);
}

// A parked configuration whose state.json was broken under the container: the operations that
// need it fail saying so, state.json writes go on without it, and the container can still be
// destroyed.
TEST_F(ContainerTest, AParkedConfigurationThatCannotBeReadBackIsAClearError) {
  auto c = factory_->create_container("unreadable", rootfs_.config({"sleep", "1000"}));
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->run_blocking());
  (*c)->park_config();
  const std::string state_path = root_ + "/unreadable/state.json";
  ASSERT_TRUE(fs::exists(state_path));
  {
    std::ofstream corrupt(state_path, std::ios::trunc);
    corrupt << "{\"id\": \"unreadable\", trunc";
  }
  auto unparked = (*c)->unpark_config();
  ASSERT_FALSE(unparked);
  EXPECT_THAT(unparked.error().what(), HasSubstr("container unreadable"));
  EXPECT_THAT(unparked.error().what(), HasSubstr(state_path));
  EXPECT_TRUE((*c)->config_parked());

  Process p = *rootfs_.config({"true"}).process;
  reactor::Reactor reactor;
  auto exec = reactor.block_on([&]() -> reactor::Task<Expected<void>> {
    auto e = co_await (*c)->exec(p, {});
    if (!e) co_return fail(std::move(e).error());
    (void)co_await (*e)->wait();
    co_return Expected<void>{};
  }());
  ASSERT_FALSE(exec);
  EXPECT_THAT(exec.error().what(), HasSubstr("exec in container unreadable"));
  // A state.json write still happens (an exit must not be lost for a broken file): the state
  // is whole again, without the configuration, and reading it back says so.
  ASSERT_TRUE((*c)->pause());
  auto rewritten = StateStore(root_).load("unreadable");
  ASSERT_TRUE(rewritten) << rewritten.error().what();
  EXPECT_EQ(rewritten->status, ContainerStatus::Paused);
  EXPECT_FALSE(rewritten->config.is_object() && rewritten->config.contains("corral"));
  ASSERT_TRUE((*c)->resume());
  auto again = (*c)->unpark_config();
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().what(), HasSubstr("no configuration recorded"));

  ASSERT_TRUE((*c)->signal(SIGKILL, false));
  EXPECT_TRUE((*c)->wait_blocking());
  EXPECT_TRUE((*c)->destroy_blocking());
  EXPECT_EQ(count_entries(root_), 0);
}

// A supervisor that restarts a container it loaded from state.json creates the next run from
// the loaded configuration: its limits (as created, with `update`'s changes on top) and device
// rules must be in it, or the next run would have none.
TEST_F(ContainerTest, ALoadedContainerHasItsLimitsAndDeviceRules) {
  Config config = rootfs_.config({"sleep", "1000"});
  Resources limits;
  limits.pids = PidsResources{64};
  limits.memory = MemoryResources{};
  limits.memory->limit = 256 * 1024 * 1024;
  limits.devices.push_back(DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"});
  limits.devices.push_back(DeviceRule{true, 'c', 1, 3, "rw"});
  config.linux_spec.resources = limits;
  auto c = factory_->create_container("limits", config);
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE((*c)->run_blocking());
  Resources change;
  change.pids = PidsResources{32};
  ASSERT_TRUE((*c)->update(change));

  auto loaded = factory_->load("limits");
  ASSERT_TRUE(loaded) << loaded.error().what();
  const auto& resources = (*loaded)->config().linux_spec.resources;
  ASSERT_TRUE(resources);
  ASSERT_TRUE(resources->pids && resources->memory && resources->memory->limit);
  EXPECT_EQ(resources->pids->limit, 32) << "the update wins over the created limit";
  EXPECT_EQ(*resources->memory->limit, 256 * 1024 * 1024);
  ASSERT_EQ(resources->devices.size(), 2u);
  EXPECT_FALSE(resources->devices[0].allow);
  EXPECT_TRUE(resources->devices[1].allow);
  EXPECT_EQ(resources->devices[1].major, std::optional<std::int64_t>(1));
  EXPECT_EQ(resources->devices[1].minor, std::optional<std::int64_t>(3));

  // The group's paths: held once, by the cgroup manager, and written to state.json from it.
  const auto paths = (*c)->cgroup_paths();
  ASSERT_TRUE(paths.count("memory"));
  EXPECT_TRUE(fs::is_directory(paths.at("memory"))) << paths.at("memory");
  EXPECT_TRUE((*c)->state().cgroup_paths.empty());
  EXPECT_EQ((*loaded)->cgroup_paths(), paths);
  const auto on_disk = nlohmann::json::parse(read_file(root_ + "/limits/state.json"));
  EXPECT_EQ(on_disk.at("cgroup_paths").get<decltype(paths)>(), paths);
  // The namespace paths likewise: made from the init's pid and its namespaces at each write,
  // by the container that made them and by one loaded from state.json.
  const std::string ns = "/proc/" + std::to_string((*c)->init_pid()) + "/ns/";
  std::map<std::string, std::string> namespaces;
  for (const auto& n : config.linux_spec.namespaces)
    namespaces[proc_ns_name(n.type)] = ns + proc_ns_name(n.type);
  ASSERT_GE(namespaces.size(), 4u);
  EXPECT_EQ(on_disk.at("namespace_paths").get<decltype(namespaces)>(), namespaces);
  EXPECT_TRUE((*loaded)->state().namespace_paths.empty());
  ASSERT_TRUE((*loaded)->pause());  // a write by the loaded one
  const auto rewritten = nlohmann::json::parse(read_file(root_ + "/limits/state.json"));
  EXPECT_EQ(rewritten.at("namespace_paths").get<decltype(namespaces)>(), namespaces);
  ASSERT_TRUE((*loaded)->resume());

  ASSERT_TRUE((*c)->signal(SIGKILL, false));
  EXPECT_TRUE((*c)->wait_blocking());
  EXPECT_TRUE((*c)->destroy_blocking());
}

TEST_F(ContainerTest, PauseResumeExecSignal) {
  auto c = factory_->create_container("long", rootfs_.config({"sleep", "1000"}));
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->run_blocking());
  EXPECT_EQ((*c)->status(), ContainerStatus::Running);
  auto procs = (*c)->processes();
  ASSERT_TRUE(procs);
  EXPECT_EQ(*procs, std::vector<pid_t>{(*c)->init_pid()});

  ASSERT_TRUE((*c)->pause());
  EXPECT_EQ((*c)->status(), ContainerStatus::Paused);
  auto loaded = factory_->load("long");
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->status(), ContainerStatus::Paused);
  ASSERT_TRUE((*c)->resume());
  EXPECT_EQ((*c)->status(), ContainerStatus::Running);
  EXPECT_EQ((*c)->resume().error().code(), ErrorCode::ContainerNotPaused);

  // exec sees the init's PID namespace: its pid 1 is the container's sleep.
  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Process p = *(*c)->config().process;
  p.args = {"sh", "-c", "cat /proc/1/cmdline; echo; readlink /proc/self/ns/pid"};
  reactor::Reactor reactor;
  auto exit = reactor.block_on([&]() -> reactor::Task<Expected<ExitRecord>> {
    auto e = co_await (*c)->exec(p, {-1, out, -1});
    if (!e) co_return fail(std::move(e).error());
    co_return co_await (*e)->wait();
  }());
  ::close(out);
  ASSERT_TRUE(exit) << exit.error().what();
  EXPECT_EQ(shell_status(*exit), 0);
  std::string ns =
      fs::read_symlink("/proc/" + std::to_string((*c)->init_pid()) + "/ns/pid").string();
  EXPECT_EQ(read_file(out_path_), std::string("sleep\0"
                                              "1000\0\n",
                                              12) +
                                      ns + "\n");

  // An exec of a missing program reports 127 and the structured failure.
  p.args = {"nope-not-here"};
  auto missing = reactor.block_on([&]() -> reactor::Task<Expected<int>> {
    auto e = co_await (*c)->exec(p, {});
    if (!e) co_return fail(std::move(e).error());
    EXPECT_TRUE((*e)->exec_failure());
    auto x = co_await (*e)->wait();
    if (!x) co_return fail(std::move(x).error());
    co_return shell_status(*x);
  }());
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, 127);

  // pid 1 of its namespace ignores SIGTERM without a handler: SIGKILL is what ends it.
  ASSERT_TRUE((*c)->signal(SIGKILL));
  auto ended = reactor.block_on((*c)->wait());
  ASSERT_TRUE(ended);
  EXPECT_EQ(shell_status(*ended), 128 + SIGKILL);
  EXPECT_TRUE(reactor.block_on((*c)->destroy()));
  EXPECT_FALSE(fs::exists(root_ + "/long"));
}

TEST_F(ContainerTest, PidsLimitStopsAForkBomb) {
  Config config = rootfs_.config(
      {"sh", "-c", "i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); done; echo spawned"});
  Resources r;
  r.pids = PidsResources{8};
  config.linux_spec.resources = r;
  // ash gives up (status 2) at the first fork the pids controller refuses; without the limit
  // all 40 sleeps start and it says "spawned".
  EXPECT_NE(run_to_end("bomb", config), 0);
  EXPECT_EQ(read_file(out_path_), "");
  EXPECT_NE(read_file(err_path_).find("fork"), std::string::npos) << read_file(err_path_);
}

TEST_F(ContainerTest, MemoryLimitOomKillsAHog) {
  Config config = rootfs_.config(
      {"sh", "-c", "x=$(dd if=/dev/zero bs=1M count=256 2>/dev/null | tr '\\0' a); echo ${#x}"});
  Resources r;
  MemoryResources mem;
  mem.limit = 32 * 1024 * 1024;
  r.memory = mem;
  config.linux_spec.resources = r;
  EXPECT_EQ(run_to_end("hog", config), 137);
}

constexpr int kConcurrentContainers = 100;

TEST_F(ContainerTest, ManyContainersConcurrentlyOnOneReactor) {
  reactor::Reactor reactor;
  Factory& factory = *factory_;
  Config config = rootfs_.config({"sh", "-c", "exit 5"});
  auto one = [&](int i) -> reactor::Task<int> {
    auto c = factory.create_container("many-" + std::to_string(i), config);
    if (!c) co_return -1;
    auto ran = co_await (*c)->run();
    if (!ran) {
      ADD_FAILURE() << ran.error().what();
      co_return -2;
    }
    auto exit = co_await (*c)->wait();
    auto destroyed = co_await (*c)->destroy();
    if (!exit || !destroyed) co_return -3;
    co_return shell_status(*exit);
  };
  std::vector<reactor::Task<int>> tasks;
  for (int i = 0; i < kConcurrentContainers; ++i) tasks.push_back(one(i));
  auto results = reactor.block_on(reactor::when_all(std::move(tasks)));
  for (int status : results) EXPECT_EQ(status, 5);
  EXPECT_EQ(count_entries(root_), 0);
}

}  // namespace
}  // namespace corral
