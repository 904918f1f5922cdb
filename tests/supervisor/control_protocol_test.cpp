#include "runtime/supervisor/control_protocol.hpp"

#include <gtest/gtest.h>
#include <signal.h>

namespace corral::supervisor {
namespace {

ProtocolError error_of(std::string_view line) {
  auto parsed = parse_request(line);
  EXPECT_FALSE(parsed) << line;
  return parsed ? ProtocolError{} : parsed.error();
}

TEST(ControlProtocol, ParsesEveryVerb) {
  auto run = parse_request(
      R"({"verb":"run","id":"web","bundle":"/b","restart":"on-failure:2","tag":[1,"x"]})");
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->verb, Verb::Run);
  EXPECT_EQ(run->id, "web");
  EXPECT_EQ(run->bundle, "/b");
  EXPECT_EQ(run->restart, (RestartPolicy{RestartMode::OnFailure, 2}));
  EXPECT_EQ(run->tag, nlohmann::json::parse(R"([1,"x"])"));

  auto kill = parse_request(R"({"verb":"kill","id":"web","signal":"SIGKILL","all":true})");
  ASSERT_TRUE(kill);
  EXPECT_EQ(kill->signal, SIGKILL);
  EXPECT_TRUE(kill->all);
  EXPECT_EQ(parse_request(R"({"verb":"kill","id":"w"})")->signal, SIGTERM);

  EXPECT_TRUE(parse_request(R"({"verb":"delete","id":"w","force":true})")->force);
  EXPECT_TRUE(parse_request(R"({"verb":"logs","id":"w","follow":true})")->follow);
  EXPECT_TRUE(parse_request(R"({"verb":"shutdown","stop_containers":true})")->stop_containers);
  for (const char* line :
       {R"({"verb":"create","id":"w","bundle":"/b"})", R"({"verb":"start","id":"w"})",
        R"({"verb":"state","id":"w"})", R"({"verb":"wait","id":"w"})", R"({"verb":"list"})",
        R"({"verb":"events"})", R"({"verb":"stats"})", R"({"verb":"stats","id":"w"})"}) {
    auto parsed = parse_request(line);
    EXPECT_TRUE(parsed) << line << ": " << (parsed ? "" : parsed.error().message);
  }
  EXPECT_EQ(parse_request(R"({"verb":"create","id":"w","bundle":"/b"})")->restart.mode,
            RestartMode::No);
}

TEST(ControlProtocol, MalformedRequests) {
  EXPECT_EQ(error_of("not json").code, "BadRequest");
  EXPECT_EQ(error_of(R"({"verb":"list")").code, "BadRequest");
  EXPECT_EQ(error_of(R"(["list"])").message, "request must be a JSON object");
  EXPECT_EQ(error_of(R"({"id":"x"})").message, "field \"verb\" is missing or not a string");
  EXPECT_EQ(error_of(R"({"verb":7})").code, "BadRequest");
}

TEST(ControlProtocol, UnknownVerbAndUnknownField) {
  auto e = error_of(R"({"verb":"reboot"})");
  EXPECT_EQ(e.code, "UnknownVerb");
  EXPECT_EQ(e.message, "unknown verb \"reboot\"");
  e = error_of(R"({"verb":"list","follow":true})");
  EXPECT_EQ(e.message, "list: unknown field \"follow\"");
  e = error_of(R"({"verb":"delete","id":"w","froce":true})");
  EXPECT_EQ(e.message, "delete: unknown field \"froce\"");
}

TEST(ControlProtocol, FieldsAreValidated) {
  EXPECT_EQ(error_of(R"({"verb":"start"})").message, "start: field \"id\" is required");
  EXPECT_EQ(error_of(R"({"verb":"start","id":3})").message, "start: field \"id\" must be a string");
  EXPECT_EQ(error_of(R"({"verb":"delete","id":"w","force":"yes"})").message,
            "delete: field \"force\" must be a boolean");
  EXPECT_EQ(error_of(R"({"verb":"run","id":"w","bundle":"rel/path"})").message,
            "run: field \"bundle\" must be an absolute path");
  EXPECT_EQ(error_of(R"({"verb":"create","id":"w"})").message,
            "create: field \"bundle\" must be an absolute path");
  auto restart = error_of(R"({"verb":"run","id":"w","bundle":"/b","restart":"often"})");
  EXPECT_NE(restart.message.find("field \"restart\""), std::string::npos) << restart.message;
  EXPECT_EQ(error_of(R"({"verb":"kill","id":"w","signal":"NOPE"})").message,
            "kill: field \"signal\": \"NOPE\" is not a signal");
  EXPECT_EQ(error_of(R"({"verb":"kill","id":"w","signal":0})").code, "BadRequest");
  EXPECT_EQ(error_of(R"({"verb":"kill","id":"w","signal":65})").code, "BadRequest");
}

TEST(ControlProtocol, OversizedLine) {
  std::string line(kMaxRequestLine + 1, ' ');
  auto e = error_of(line);
  EXPECT_EQ(e.code, "TooLarge");
  EXPECT_NE(e.message.find(std::to_string(kMaxRequestLine)), std::string::npos);
}

TEST(ControlProtocol, SignalValues) {
  EXPECT_EQ(parse_signal_value("TERM"), SIGTERM);
  EXPECT_EQ(parse_signal_value("SIGHUP"), SIGHUP);
  EXPECT_EQ(parse_signal_value("9"), SIGKILL);
  EXPECT_EQ(parse_signal_value(2), SIGINT);
  EXPECT_EQ(parse_signal_value(true), 0);
  EXPECT_EQ(parse_signal_value("SIG"), 0);
}

TEST(ControlProtocol, ResponsesAreOneLineWithTheTag) {
  EXPECT_EQ(ok_line(nullptr), "{\"ok\":true}\n");
  EXPECT_EQ(ok_line(7, {{"x", 1}}), "{\"ok\":true,\"tag\":7,\"x\":1}\n");
  auto e = nlohmann::json::parse(error_line("t", "UnknownVerb", "unknown verb \"x\""));
  EXPECT_EQ(e["ok"], false);
  EXPECT_EQ(e["tag"], "t");
  EXPECT_EQ(e["error"]["code"], "UnknownVerb");
  // Invalid UTF-8 (a container's output, say) never makes a response unencodable.
  EXPECT_NO_THROW(ok_line(nullptr, {{"log", std::string("\xff\xfe")}}));
}

}  // namespace
}  // namespace corral::supervisor
