// containerd runs the runtime with `--log FILE --log-format json` and, when a command fails,
// shows the user the "msg" of the last "level":"error" entry of FILE, nothing else. So every
// failing command, whatever stage it fails in (parsing, loading, the library, the init inside
// the container), must end that log with its error. End to end against the built binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/corral_runner.hpp"
#include "cli/temp_dir.hpp"
#include "init/busybox_rootfs.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli {
namespace {

using ::testing::HasSubstr;
using testing::Outcome;

class JsonLogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& id : ids_)
      testing::run_corral({"--root", root_.path(), "delete", "--force", id});
  }

  std::string make_id(const std::string& name) {
    ids_.push_back("cli-jsonlog-" + name + "-" + std::to_string(::getpid()));
    return ids_.back();
  }

  // A bundle of its own per call (config.json differs), sharing the busybox rootfs.
  std::string bundle(const nlohmann::json& spec) {
    testing::TempDir& dir = *bundles_.emplace_back(std::make_unique<testing::TempDir>());
    nlohmann::json with_root = spec;
    with_root["root"]["path"] = rootfs_.rootfs();
    dir.write("config.json", with_root.dump(2));
    return dir.path();
  }
  nlohmann::json spec_running(const std::vector<std::string>& args) {
    nlohmann::json spec = default_spec(false);
    spec["process"]["args"] = args;
    spec["process"]["terminal"] = false;
    return spec;
  }

  // Runs `corral --root R --log L --log-format json ARGS` with a fresh log.
  Outcome corral(const std::vector<std::string>& args) {
    std::vector<std::string> all{"--root",   root_.path(),   "--log",
                                 log_path(), "--log-format", "json"};
    all.insert(all.end(), args.begin(), args.end());
    ::unlink(log_path().c_str());
    return testing::run_corral(all);
  }
  std::string log_path() const { return logs_.file("log.json"); }

  // Polls `state` until the container is stopped, a bounded number of times.
  bool stops(const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      const Outcome o = testing::run_corral({"--root", root_.path(), "state", id});
      const nlohmann::json state = nlohmann::json::parse(o.out, nullptr, false);
      if (o.status == 0 && state.is_object() && state.value("status", "") == "stopped") return true;
      ::usleep(25'000);
    }
    return false;
  }

  // Checks that `o` failed with status 1 and that the log's last error entry carries the same
  // message as stderr's first line, which mentions `expected`.
  void expect_failure_logged(const Outcome& o, const std::string& expected,
                             const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(o.status, 1) << o.err;
    const std::string first_line = o.err.substr(0, o.err.find('\n'));
    EXPECT_THAT(first_line, HasSubstr(expected));
    std::istringstream log(logs_.read("log.json"));
    nlohmann::json last_error;
    for (std::string line; std::getline(log, line);) {
      nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << line;
      ASSERT_TRUE(entry.contains("level") && entry.contains("msg") && entry.contains("time"))
          << line;
      if (entry["level"] == "error") last_error = entry;
    }
    ASSERT_TRUE(last_error.is_object()) << "no error entry in the log";
    EXPECT_EQ(last_error["msg"], first_line);
  }

  corral::testing::BusyboxRootfs rootfs_;
  testing::TempDir root_;
  testing::TempDir logs_;
  std::vector<std::unique_ptr<testing::TempDir>> bundles_;
  std::vector<std::string> ids_;
};

TEST_F(JsonLogTest, EveryFailingCommandEndsTheLogWithItsError) {
  // Before any container exists.
  expect_failure_logged(corral({"frobnicate"}), "frobnicate", "unknown command");
  expect_failure_logged(corral({"create", "--bundle", "/nonexistent", "x"}),
                        "/nonexistent/config.json", "missing bundle");
  expect_failure_logged(corral({"create", "--bundle", bundle(spec_running({"true"})), "bad/id"}),
                        "invalid container id", "invalid id");
  nlohmann::json malformed = spec_running({"true"});
  malformed["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", "many"}}};
  expect_failure_logged(corral({"create", "--bundle", bundle(malformed), make_id("malformed")}),
                        "rlimits", "malformed config");
  for (const char* command : {"state", "start", "delete", "pause", "resume", "ps"})
    expect_failure_logged(corral({command, "nosuch"}), "container nosuch does not exist", command);
  expect_failure_logged(corral({"kill", "nosuch", "NOSIG"}), "unknown signal", "bad signal");
  expect_failure_logged(corral({"checkpoint", "nosuch"}), "not supported", "checkpoint");
  expect_failure_logged(corral({"--systemd-cgroup", "create", "x"}),
                        "systemd cgroup driver is not supported", "systemd");

  // The init fails inside the container: its error reaches the log too.
  nlohmann::json bad_mount = spec_running({"true"});
  bad_mount["mounts"].push_back({{"destination", "/mnt"},
                                 {"type", "bind"},
                                 {"source", "/nonexistent-source"},
                                 {"options", {"bind"}}});
  expect_failure_logged(corral({"run", "--bundle", bundle(bad_mount), make_id("badmount")}),
                        "/nonexistent-source", "init failure");

  // Against a real container, in the wrong state for the command.
  const std::string id = make_id("live");
  const std::string sleeper = bundle(spec_running({"sleep", "1000"}));
  ASSERT_EQ(corral({"create", "--bundle", sleeper, id}).status, 0);
  expect_failure_logged(corral({"create", "--bundle", sleeper, id}), "already exists", "id in use");
  expect_failure_logged(corral({"resume", id}), "not paused", "resume created");
  ASSERT_EQ(corral({"start", id}).status, 0);
  expect_failure_logged(corral({"start", id}), "not created", "start running");
  expect_failure_logged(corral({"delete", id}), "not stopped", "delete running");
  ASSERT_EQ(corral({"kill", id, "KILL"}).status, 0);
  // kill returns once the signal is sent, as runc's does; delete needs the init gone.
  ASSERT_TRUE(stops(id));
  const Outcome deleted = corral({"delete", id});
  ASSERT_EQ(deleted.status, 0) << deleted.err;
  expect_failure_logged(corral({"kill", id}), "does not exist", "kill deleted");
}

TEST_F(JsonLogTest, SuccessLogsNoError) {
  Outcome ok = corral({"run", "--bundle", bundle(spec_running({"true"})), make_id("ok")});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_THAT(logs_.read("log.json"), ::testing::Not(HasSubstr("\"error\"")));
}

}  // namespace
}  // namespace corral::cli
