#include "apps/corral/state_format.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace corral::cli {
namespace {

using namespace std::chrono_literals;

// 2024-05-01T12:34:56Z
SystemTime at(std::chrono::nanoseconds fraction = 0ns) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(1714566896s + fraction));
}

ContainerSummary running() {
  ContainerSummary c;
  c.oci_version = "1.0.2-dev";
  c.id = "web";
  c.pid = 4242;
  c.status = "running";
  c.bundle = "/bundles/web";
  c.rootfs = "/bundles/web/rootfs";
  c.created = at(123456789ns);
  c.owner = "root";
  return c;
}

TEST(TimeFormat, Rfc3339AndNano) {
  EXPECT_EQ(format_rfc3339(at(999ms)), "2024-05-01T12:34:56Z");
  EXPECT_EQ(format_rfc3339_nano(at()), "2024-05-01T12:34:56Z");
  EXPECT_EQ(format_rfc3339_nano(at(123456789ns)), "2024-05-01T12:34:56.123456789Z");
  EXPECT_EQ(format_rfc3339_nano(at(500ms)), "2024-05-01T12:34:56.5Z");
  EXPECT_EQ(format_rfc3339_nano(at(1000ns)), "2024-05-01T12:34:56.000001Z");
  EXPECT_EQ(format_rfc3339_nano(SystemTime{}), "1970-01-01T00:00:00Z");
}

TEST(StateFormat, StateJsonHasRuncsFieldsInOrder) {
  std::string text = format_state_json(running());
  EXPECT_EQ(text.back(), '\n');
  auto state = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : state.items()) keys.push_back(key);
  EXPECT_THAT(keys, ::testing::ElementsAre("ociVersion", "id", "pid", "status", "bundle", "rootfs",
                                           "created", "owner"));
  EXPECT_EQ(state["pid"], 4242);
  EXPECT_EQ(state["status"], "running");
  EXPECT_EQ(state["created"], "2024-05-01T12:34:56.123456789Z");
  EXPECT_NE(text.find("\n  \"id\": \"web\""), std::string::npos) << text;  // indented by 2
}

TEST(StateFormat, AnnotationsOnlyWhenThereAreSome) {
  ContainerSummary c = running();
  c.annotations = {{"a", "1"}};
  auto state = nlohmann::json::parse(format_state_json(c));
  EXPECT_EQ(state["annotations"], (nlohmann::json{{"a", "1"}}));
}

TEST(StateFormat, ListTableIsPaddedLikeTabwriter) {
  ContainerSummary a = running();
  ContainerSummary b = running();
  b.id = "a-rather-long-container-id";
  b.pid = 0;
  b.status = "stopped";
  b.created = at();
  std::string table = format_list_table({a, b});
  // Widths: ID 26+3, PID 12, STATUS 12, BUNDLE 12+3, CREATED 30+3; OWNER unpadded.
  EXPECT_EQ(table,
            "ID                           PID         STATUS      BUNDLE         CREATED        "
            "                  OWNER\n"
            "web                          4242        running     /bundles/web   "
            "2024-05-01T12:34:56.123456789Z   root\n"
            "a-rather-long-container-id   0           stopped     /bundles/web   "
            "2024-05-01T12:34:56Z             root\n");
}

TEST(StateFormat, EmptyListIsTheHeaderAlone) {
  EXPECT_EQ(format_list_table({}),
            "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
  EXPECT_EQ(format_list_json({}), "[]\n");
  EXPECT_EQ(format_list_ids({}), "");
}

TEST(StateFormat, ListJsonAndIds) {
  ContainerSummary b = running();
  b.id = "db";
  auto list = nlohmann::json::parse(format_list_json({running(), b}));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "web");
  EXPECT_EQ(list[1]["id"], "db");
  EXPECT_EQ(list[1]["rootfs"], "/bundles/web/rootfs");
  EXPECT_EQ(format_list_ids({running(), b}), "web\ndb\n");
}

}  // namespace
}  // namespace corral::cli
