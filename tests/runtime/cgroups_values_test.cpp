#include <gtest/gtest.h>

#include "runtime/cgroups/resource_values.hpp"

namespace corral::cgroups {
namespace {

TEST(CgroupValues, SharesToWeightMapsTheEnds) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(1024), 39u);  // the default shares
  EXPECT_EQ(shares_to_weight(0), 1u);      // clamped
  EXPECT_EQ(shares_to_weight(1u << 30), 10000u);
}

TEST(CgroupValues, CpuMax) {
  EXPECT_EQ(cpu_max_value(std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(cpu_max_value(50000, 100000), "50000 100000");
  EXPECT_EQ(cpu_max_value(-1, 100000), "max 100000");
  EXPECT_EQ(cpu_max_value(std::nullopt, 250000), "max 250000");
  EXPECT_EQ(cpu_max_value(20000, std::nullopt), "20000");
}

TEST(CgroupValues, SwapMaxIsSwapMinusLimit) {
  EXPECT_EQ(*swap_max_value(-1, std::nullopt), "max");
  EXPECT_EQ(*swap_max_value(300, 100), "200");
  EXPECT_EQ(*swap_max_value(100, 100), "0");
  auto without_limit = swap_max_value(300, std::nullopt);
  ASSERT_FALSE(without_limit);
  EXPECT_EQ(without_limit.error().code(), ErrorCode::ConfigInvalid);
  auto below = swap_max_value(50, 100);
  ASSERT_FALSE(below);
  EXPECT_NE(below.error().message().find("below"), std::string::npos);
}

TEST(CgroupValues, DeviceRuleLines) {
  EXPECT_EQ(
      *device_rule_line({.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"}, 0),
      "c 1:3 rwm");
  EXPECT_EQ(
      *device_rule_line({.allow = true, .type = 'b', .major = 8, .minor = {}, .access = "r"}, 0),
      "b 8:* r");
  EXPECT_EQ(*device_rule_line(
                {.allow = false, .type = 'a', .major = {}, .minor = {}, .access = "rwm"}, 0),
            "a *:* rwm");
  auto bad_access =
      device_rule_line({.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwx"}, 4);
  ASSERT_FALSE(bad_access);
  EXPECT_EQ(bad_access.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_NE(bad_access.error().message().find("devices[4]"), std::string::npos);
  EXPECT_FALSE(
      device_rule_line({.allow = true, .type = 'p', .major = 1, .minor = 3, .access = "r"}, 0));
  EXPECT_FALSE(
      device_rule_line({.allow = true, .type = 'c', .major = 1, .minor = 3, .access = ""}, 0));
  EXPECT_FALSE(
      device_rule_line({.allow = true, .type = 'c', .major = -1, .minor = 3, .access = "r"}, 0));
}

TEST(CgroupValues, DeviceRulesAllowEverything) {
  const DeviceRule deny_all{.allow = false, .type = 'a', .major = {}, .minor = {}, .access = "rwm"};
  const DeviceRule allow_all{.allow = true, .type = 'a', .major = {}, .minor = {}, .access = "rwm"};
  const DeviceRule allow_null{.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"};
  const DeviceRule deny_null{.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm"};
  const DeviceRule allow_all_read{
      .allow = true, .type = 'a', .major = {}, .minor = {}, .access = "r"};
  EXPECT_TRUE(device_rules_allow_everything({}));
  EXPECT_TRUE(device_rules_allow_everything({allow_all}));
  EXPECT_TRUE(device_rules_allow_everything({deny_all, allow_all, allow_null}));
  EXPECT_FALSE(device_rules_allow_everything({deny_all}));
  EXPECT_FALSE(device_rules_allow_everything({deny_all, allow_null}));
  EXPECT_FALSE(device_rules_allow_everything({allow_all, deny_null}));
  EXPECT_FALSE(device_rules_allow_everything({allow_all, deny_all}));
  EXPECT_FALSE(device_rules_allow_everything({allow_all_read}));
}

}  // namespace
}  // namespace corral::cgroups
