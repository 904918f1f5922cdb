// The built corral binary, end to end: exit statuses, stdout, stderr and the --log file.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/corral_process.hpp"
#include "cli/temp_dir.hpp"
#include "runtime/spec/config_parser.hpp"
#include "runtime/spec/default_spec.hpp"

namespace corral::cli {
namespace {

using ::testing::HasSubstr;

using testing::Outcome;

Outcome run_corral(const std::vector<std::string>& args, const std::string& cwd = "/") {
  testing::CorralOptions options;
  options.cwd = cwd;
  return testing::run_corral(args, options);
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

TEST(CorralBinary, SpecWritesAConfigThatParsesBack) {
  testing::TempDir bundle;
  Outcome spec = run_corral({"spec", "--bundle", bundle.path()});
  ASSERT_EQ(spec.status, 0) << spec.err;
  EXPECT_EQ(spec.err, "");
  std::string text = bundle.read("config.json");
  EXPECT_EQ(nlohmann::json::parse(text), default_spec(false));
  auto config = parse_config(text, bundle.path());
  ASSERT_TRUE(config) << config.error().what();
  EXPECT_EQ(config->root.path, bundle.path() + "/rootfs");
}

TEST(CorralBinary, SpecDefaultsToTheCurrentDirectoryAndKnowsRootless) {
  testing::TempDir bundle;
  Outcome spec = run_corral({"spec", "--rootless"}, bundle.path());
  ASSERT_EQ(spec.status, 0) << spec.err;
  auto written = nlohmann::json::parse(bundle.read("config.json"));
  EXPECT_EQ(written, default_spec(true));
  EXPECT_TRUE(parse_config(written.dump(), bundle.path()));
}

TEST(CorralBinary, SpecRefusesToOverwrite) {
  testing::TempDir bundle;
  bundle.write("config.json", "mine");
  Outcome spec = run_corral({"spec", "-b", bundle.path()});
  EXPECT_EQ(spec.status, 1);
  EXPECT_THAT(spec.err, HasSubstr("File config.json exists. Remove it first"));
  EXPECT_EQ(bundle.read("config.json"), "mine");
}

TEST(CorralBinary, FailuresEndTheJsonLogWithAnError) {
  testing::TempDir dir;
  const std::string log = dir.file("log.json");
  Outcome checkpoint = run_corral({"--log", log, "--log-format", "json", "checkpoint", "x"});
  EXPECT_EQ(checkpoint.status, 1);
  EXPECT_EQ(checkpoint.err, "corral: checkpoint is not supported\n");
  auto entry = nlohmann::json::parse(last_line(dir.read("log.json")));
  EXPECT_EQ(entry["level"], "error");
  EXPECT_EQ(entry["msg"], "corral: checkpoint is not supported");
  EXPECT_TRUE(entry.contains("time"));

  // A usage error is logged too: containerd shows that message, not our stderr.
  Outcome usage = run_corral({"--log", log, "--log-format=json", "kill", "c", "NOPE"});
  EXPECT_EQ(usage.status, 1);
  EXPECT_EQ(nlohmann::json::parse(last_line(dir.read("log.json")))["msg"],
            "corral: kill: unknown signal \"NOPE\"");

  Outcome systemd =
      run_corral({"--systemd-cgroup", "--log", log, "--log-format", "json", "create", "c"});
  EXPECT_EQ(systemd.status, 1);
  EXPECT_THAT(nlohmann::json::parse(last_line(dir.read("log.json")))["msg"].get<std::string>(),
              HasSubstr("systemd cgroup driver is not supported; use cgroupfs"));
}

TEST(CorralBinary, LifecycleFailuresGoToStderrAndTheLog) {
  testing::TempDir dir;
  const std::string log = dir.file("log.txt");
  const std::string root = dir.file("root");
  Outcome create =
      run_corral({"--root", root, "--log", log, "create", "--bundle", dir.path(), "c1"});
  EXPECT_EQ(create.status, 1);
  const std::string message = "corral: create container c1: config.json: cannot open " +
                              dir.path() + "/config.json: No such file or directory";
  EXPECT_EQ(create.err, message + "\n");
  EXPECT_THAT(dir.read("log.txt"), HasSubstr("level=error msg=\"" + message + "\""));
  // Commands on a container that does not exist name it.
  Outcome events = run_corral({"--root", root, "events", "c1"});
  EXPECT_EQ(events.status, 1);
  EXPECT_THAT(events.err, HasSubstr("corral: container c1 does not exist"));
  // init is internal: a call by hand is refused with a reason.
  Outcome init = run_corral({"--root", root, "init"});
  EXPECT_EQ(init.status, 1);
  EXPECT_THAT(init.err, HasSubstr("init: internal to the runtime"));
}

TEST(CorralBinary, DebugAddsEntries) {
  testing::TempDir dir;
  const std::string log = dir.file("log.json");
  ASSERT_EQ(run_corral({"--debug", "--log", log, "--log-format", "json", "features"}).status, 0);
  auto entry = nlohmann::json::parse(last_line(dir.read("log.json")));
  EXPECT_EQ(entry["level"], "debug");
  ASSERT_EQ(run_corral({"--log", dir.file("quiet.json"), "features"}).status, 0);
  EXPECT_FALSE(std::filesystem::file_size(dir.file("quiet.json")) > 0);
}

TEST(CorralBinary, UnknownCommandAndFlag) {
  Outcome command = run_corral({"frobnicate"});
  EXPECT_EQ(command.status, 1);
  EXPECT_THAT(command.err, HasSubstr("corral: unknown command \"frobnicate\""));
  EXPECT_EQ(command.out, "");
  Outcome flag = run_corral({"list", "--frob"});
  EXPECT_EQ(flag.status, 1);
  EXPECT_THAT(flag.err, HasSubstr("list: flag provided but not defined: --frob"));
  EXPECT_THAT(flag.err, HasSubstr("corral list --help"));
}

TEST(CorralBinary, FeaturesIsJson) {
  Outcome features = run_corral({"features"});
  ASSERT_EQ(features.status, 0) << features.err;
  auto doc = nlohmann::json::parse(features.out);
  EXPECT_EQ(doc["linux"]["cgroup"]["systemd"], false);
  EXPECT_FALSE(doc["mountOptions"].empty());
}

TEST(CorralBinary, VersionAndHelp) {
  Outcome version = run_corral({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_THAT(version.out, HasSubstr("corral version "));
  EXPECT_THAT(version.out, HasSubstr("spec: 1.2.0"));
  Outcome help = run_corral({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_THAT(help.out, HasSubstr("--systemd-cgroup"));
  Outcome exec_help = run_corral({"exec", "--help"});
  EXPECT_EQ(exec_help.status, 0);
  EXPECT_THAT(exec_help.out, HasSubstr("--additional-gids, -g GID"));
}

TEST(CorralBinary, ExecChecksItsProcessFileBeforeAnythingElse) {
  testing::TempDir dir;
  std::string bad = dir.write("p.json", R"({"args":["sh"],"user":{"uid":-1}})");
  Outcome exec = run_corral({"exec", "--process", bad, "c1"});
  EXPECT_EQ(exec.status, 1);
  EXPECT_THAT(exec.err, HasSubstr("exec --process " + bad));
  EXPECT_THAT(exec.err, HasSubstr("process.user.uid"));
}

}  // namespace
}  // namespace corral::cli
