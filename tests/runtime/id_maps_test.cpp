#include "runtime/id_maps.hpp"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(IdMaps, TextIsOneLinePerMapping) {
  EXPECT_EQ(id_map_text({{0, 100000, 65536}, {65536, 1000, 1}}), "0 100000 65536\n65536 1000 1\n");
  EXPECT_EQ(id_map_text({}), "");
}

TEST(IdMaps, RootMustBeMappedWithANonEmptyRange) {
  EXPECT_TRUE(maps_root({{1, 5000, 10}, {0, 100000, 1}}));
  EXPECT_FALSE(maps_root({{1, 100000, 65536}}));
  EXPECT_FALSE(maps_root({{0, 100000, 0}}));
  EXPECT_FALSE(maps_root({}));
}

}  // namespace
}  // namespace corral
