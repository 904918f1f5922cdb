// A part of a config document given on its own is parsed by the config.json parser itself.
#include "runtime/spec/config_fragment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace corral {
namespace {

using ::testing::HasSubstr;

TEST(ConfigFragmentTest, TheFragmentLandsAtItsPointerInsideAMinimalDocument) {
  auto config = parse_config_fragment(R"({"pids":{"limit":7}})", "update -r f", "/linux/resources",
                                      "a JSON object of resources");
  ASSERT_TRUE(config) << config.error().what();
  ASSERT_TRUE(config->linux_spec.resources && config->linux_spec.resources->pids);
  EXPECT_EQ(config->linux_spec.resources->pids->limit, 7);
  EXPECT_FALSE(config->process);
}

TEST(ConfigFragmentTest, ErrorsNameTheSourceAndTheField) {
  auto wrong = parse_config_fragment(R"({"args":["true"],"cwd":7})", "exec --process p.json",
                                     "/process", "a JSON object describing a process");
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().what(), HasSubstr("exec --process p.json"));
  EXPECT_THAT(wrong.error().what(), HasSubstr("process.cwd"));

  auto malformed = parse_config_fragment("{", "src", "/process", "a process");
  ASSERT_FALSE(malformed);
  EXPECT_THAT(malformed.error().what(), HasSubstr("src: malformed JSON"));

  auto not_object = parse_config_fragment("[1]", "src", "/process", "a JSON object, a process");
  ASSERT_FALSE(not_object);
  EXPECT_THAT(not_object.error().what(), HasSubstr("src: expected a JSON object, a process"));
}

}  // namespace
}  // namespace corral
