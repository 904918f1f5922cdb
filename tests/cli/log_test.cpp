#include "apps/corral/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/temp_dir.hpp"

namespace corral::cli {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const SystemTime kTime{std::chrono::duration_cast<SystemTime::duration>(1714566896s)};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LogFormat, JsonEntryParsesBack) {
  std::string entry =
      format_log_entry(LogFormat::Json, LogLevel::Error, "container \"web\": bad\nthing", kTime);
  EXPECT_EQ(entry.find('\n'), std::string::npos);
  auto parsed = nlohmann::json::parse(entry);
  EXPECT_EQ(parsed, (nlohmann::json{{"level", "error"},
                                    {"msg", "container \"web\": bad\nthing"},
                                    {"time", "2024-05-01T12:34:56Z"}}));
}

TEST(LogFormat, JsonSurvivesBytesThatAreNotUtf8) {
  std::string entry = format_log_entry(LogFormat::Json, LogLevel::Error, "path \xff", kTime);
  EXPECT_EQ(nlohmann::json::parse(entry)["level"], "error");
}

TEST(LogFormat, TextQuotesLikeLogrus) {
  EXPECT_EQ(format_log_entry(LogFormat::Text, LogLevel::Error, "say \"hi\"\n", kTime),
            "time=\"2024-05-01T12:34:56Z\" level=error msg=\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(format_log_entry(LogFormat::Text, LogLevel::Debug, "plain-word", kTime),
            "time=\"2024-05-01T12:34:56Z\" level=debug msg=plain-word");
  EXPECT_EQ(format_log_entry(LogFormat::Text, LogLevel::Warning, "", kTime),
            "time=\"2024-05-01T12:34:56Z\" level=warning msg=\"\"");
}

TEST(Logger, FileGetsEntriesAndDebugOnlyWithDebug) {
  testing::TempDir dir;
  GlobalOptions global;
  global.log_file = dir.file("log.json");
  global.log_format = LogFormat::Json;
  {
    auto log = Logger::open(global);
    ASSERT_TRUE(log) << log.error().what();
    EXPECT_TRUE(log->logs_to_file());
    log->debug("hidden");
    log->log(LogLevel::Info, "shown");
    log->report_failure("corral: it broke");
  }
  global.debug = true;
  {
    auto log = Logger::open(global);  // appends
    ASSERT_TRUE(log);
    log->debug("now shown");
  }
  auto lines = lines_of(dir.read("log.json"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["msg"], "shown");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "error");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["msg"], "corral: it broke");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["level"], "debug");
}

TEST(Logger, TextFile) {
  testing::TempDir dir;
  GlobalOptions global;
  global.log_file = dir.file("log.txt");
  auto log = Logger::open(global);
  ASSERT_TRUE(log);
  log->error("broken");
  EXPECT_THAT(dir.read("log.txt"), HasSubstr("level=error msg=broken\n"));
}

TEST(Logger, UnopenableFileIsAnErrorNamingIt) {
  GlobalOptions global;
  global.log_file = "/nonexistent/dir/log";
  auto log = Logger::open(global);
  ASSERT_FALSE(log);
  EXPECT_THAT(log.error().what(), HasSubstr("/nonexistent/dir/log"));
}

}  // namespace
}  // namespace corral::cli
