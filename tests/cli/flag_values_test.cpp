#include "apps/corral/flag_values.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace corral::cli {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(FlagValues, GoBooleans) {
  for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"})
    EXPECT_TRUE(*parse_bool_value(yes));
  for (const char* no : {"0", "f", "F", "false", "FALSE", "False"}) {
    EXPECT_FALSE(*parse_bool_value(no));
  }
  EXPECT_FALSE(parse_bool_value("yes"));
  EXPECT_FALSE(parse_bool_value(""));
}

TEST(FlagValues, Integers) {
  EXPECT_EQ(*parse_unsigned_value("42"), 42u);
  EXPECT_FALSE(parse_unsigned_value("-1"));
  EXPECT_FALSE(parse_unsigned_value("+1"));
  EXPECT_FALSE(parse_unsigned_value("4x"));
  EXPECT_FALSE(parse_unsigned_value(""));
  EXPECT_THAT(parse_unsigned_value("4294967296", UINT32_MAX).error(), HasSubstr("out of range"));
  EXPECT_EQ(*parse_signed_value("-7"), -7);
  EXPECT_EQ(*parse_signed_value("+7"), 7);
  EXPECT_FALSE(parse_signed_value("99999999999999999999"));
  EXPECT_FALSE(parse_signed_value("1.5"));
}

TEST(FlagValues, MemorySizesAreBinary) {
  EXPECT_EQ(*parse_memory_size("1024"), 1024);
  EXPECT_EQ(*parse_memory_size("1k"), 1024);
  EXPECT_EQ(*parse_memory_size("1KiB"), 1024);
  EXPECT_EQ(*parse_memory_size("2kb"), 2048);
  EXPECT_EQ(*parse_memory_size("512m"), 512LL << 20);
  EXPECT_EQ(*parse_memory_size("1.5G"), 3LL << 29);
  EXPECT_EQ(*parse_memory_size("1 g"), 1LL << 30);
  EXPECT_EQ(*parse_memory_size("1t"), 1LL << 40);
  EXPECT_EQ(*parse_memory_size("-1"), -1);
  EXPECT_FALSE(parse_memory_size("-2"));
  EXPECT_FALSE(parse_memory_size("m"));
  EXPECT_FALSE(parse_memory_size("10x"));
  EXPECT_FALSE(parse_memory_size("10mbx"));
  EXPECT_FALSE(parse_memory_size("100000000p"));
}

TEST(FlagValues, GoDurations) {
  EXPECT_EQ(*parse_go_duration("5s"), 5s);
  EXPECT_EQ(*parse_go_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_go_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_go_duration("1.5h"), 90min);
  EXPECT_EQ(*parse_go_duration("10us"), 10us);
  EXPECT_EQ(*parse_go_duration("10\xC2\xB5s"), 10us);
  EXPECT_EQ(*parse_go_duration("3ns"), 3ns);
  EXPECT_EQ(*parse_go_duration("0"), 0ns);
  EXPECT_EQ(*parse_go_duration("-2s"), -2s);
  EXPECT_FALSE(parse_go_duration(""));
  EXPECT_FALSE(parse_go_duration("5"));
  EXPECT_FALSE(parse_go_duration("5d"));
  EXPECT_FALSE(parse_go_duration("s"));
}

TEST(FlagValues, UserSpecs) {
  EXPECT_EQ(*parse_user_spec("1000"), (UserSpec{1000, std::nullopt}));
  EXPECT_EQ(*parse_user_spec("1000:100"), (UserSpec{1000, 100}));
  EXPECT_EQ(*parse_user_spec("0:0"), (UserSpec{0, 0}));
  EXPECT_EQ(*parse_user_spec("4294967295"), (UserSpec{4294967295u, std::nullopt}));
  EXPECT_THAT(parse_user_spec("root").error(), HasSubstr("user \"root\": uid"));
  EXPECT_THAT(parse_user_spec("1000:").error(), HasSubstr("gid"));
  EXPECT_THAT(parse_user_spec("1000:staff").error(), HasSubstr("gid"));
  EXPECT_FALSE(parse_user_spec(":5"));
  EXPECT_FALSE(parse_user_spec("1:2:3"));
  EXPECT_FALSE(parse_user_spec("4294967296"));
}

}  // namespace
}  // namespace corral::cli
