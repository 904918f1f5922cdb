#include "apps/corral/process_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/temp_dir.hpp"

namespace corral::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProcessFile, ParsesAProcessObject) {
  testing::TempDir dir;
  std::string path = dir.write("p.json", R"({
    "terminal": false,
    "user": {"uid": 1000, "gid": 100, "additionalGids": [5]},
    "args": ["sh", "-c", "true"],
    "env": ["PATH=/bin"],
    "cwd": "/tmp",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
    "noNewPrivileges": true
  })");
  auto process = load_process_file(path);
  ASSERT_TRUE(process) << process.error().what();
  EXPECT_THAT(process->args, ElementsAre("sh", "-c", "true"));
  EXPECT_EQ(process->user.uid, 1000u);
  EXPECT_EQ(process->user.gid, 100u);
  EXPECT_THAT(process->user.additional_gids, ElementsAre(5u));
  EXPECT_THAT(process->env, ElementsAre("PATH=/bin"));
  EXPECT_EQ(process->cwd, "/tmp");
  ASSERT_TRUE(process->capabilities);
  EXPECT_THAT(process->capabilities->bounding, ElementsAre("CAP_KILL"));
  EXPECT_TRUE(process->no_new_privileges);
}

TEST(ProcessFile, ErrorsNameTheFileAndTheField) {
  auto missing = load_process_file("/nonexistent/p.json");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().what(), HasSubstr("exec --process /nonexistent/p.json"));

  auto bad_uid = parse_process_json(R"({"args":["sh"],"user":{"uid":"root"}})", "src");
  ASSERT_FALSE(bad_uid);
  EXPECT_THAT(bad_uid.error().what(), HasSubstr("src: "));
  EXPECT_THAT(bad_uid.error().what(), HasSubstr("process.user.uid"));

  auto bad_cap =
      parse_process_json(R"({"args":["sh"],"capabilities":{"bounding":["CAP_X"]}})", "src");
  ASSERT_FALSE(bad_cap);
  EXPECT_THAT(bad_cap.error().what(), HasSubstr("CAP_X"));

  auto no_args = parse_process_json(R"({"cwd":"/"})", "src");
  ASSERT_FALSE(no_args);
  EXPECT_THAT(no_args.error().what(), HasSubstr("process.args"));

  EXPECT_THAT(parse_process_json("[1]", "src").error().what(), HasSubstr("expected a JSON object"));
  EXPECT_THAT(parse_process_json("{", "src").error().what(), HasSubstr("malformed JSON"));
}

}  // namespace
}  // namespace corral::cli
