#include "runtime/spec/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace corral {
namespace {

using ::testing::HasSubstr;

const ErrorCode kAllCodes[] = {
    ErrorCode::IdInUse,
    ErrorCode::InvalidIdFormat,
    ErrorCode::ContainerNotExists,
    ErrorCode::ContainerPaused,
    ErrorCode::ContainerNotStopped,
    ErrorCode::ContainerNotRunning,
    ErrorCode::ContainerNotPaused,
    ErrorCode::NoProcessOps,
    ErrorCode::ConfigInvalid,
    ErrorCode::ConsoleExists,
    ErrorCode::Unsupported,
    ErrorCode::SystemError,
};

Error::Clock::time_point at_ns(std::int64_t ns) {
  return Error::Clock::time_point(
      std::chrono::duration_cast<Error::Clock::duration>(std::chrono::nanoseconds(ns)));
}

TEST(ErrorCode, EveryCodeHasADistinctNameThatParsesBack) {
  std::set<std::string_view> names;
  for (ErrorCode code : kAllCodes) {
    std::string_view name = to_string(code);
    EXPECT_TRUE(names.insert(name).second) << name;
    ErrorCode parsed{};
    ASSERT_TRUE(parse_error_code(name, parsed)) << name;
    EXPECT_EQ(parsed, code);
  }
  EXPECT_EQ(to_string(ErrorCode::ConfigInvalid), "ConfigInvalid");
  ErrorCode unused{};
  EXPECT_FALSE(parse_error_code("NoSuchCode", unused));
  EXPECT_FALSE(parse_error_code("configinvalid", unused));
}

TEST(Error, FromErrnoNamesOperationPathAndCause) {
  Error e = Error::from_errno(ENOENT, "mount", "/rootfs/proc");
  EXPECT_EQ(e.code(), ErrorCode::SystemError);
  EXPECT_EQ(e.message(), "mount /rootfs/proc: No such file or directory");
  EXPECT_EQ(e.cause(), (ErrorCause{ENOENT, "mount", "/rootfs/proc"}));
  EXPECT_EQ(e.what(), e.message());  // the cause is already in the message: said once

  Error no_path = Error::from_errno(EACCES, "setns");
  EXPECT_EQ(no_path.message(), "setns: Permission denied");
}

TEST(Error, WhatAddsTheCauseWhenTheMessageDoesNotSayIt) {
  Error e(ErrorCode::ConfigInvalid, "bad rootfs", ErrorCause{ENOTDIR, "stat", "/b/rootfs"});
  EXPECT_EQ(e.what(), "bad rootfs (stat /b/rootfs: Not a directory)");
  EXPECT_EQ(Error(ErrorCode::IdInUse, "id abc is in use").what(), "id abc is in use");
}

TEST(Error, WithContextPrependsAndKeepsCodeAndCause) {
  Error e = Error::from_errno(EBUSY, "rmdir", "/sys/fs/cgroup/pids/x");
  auto stamp = e.timestamp();
  e.with_context("destroy container abc").with_context("corral");
  EXPECT_EQ(e.message(),
            "corral: destroy container abc: rmdir /sys/fs/cgroup/pids/x: "
            "Device or resource busy");
  EXPECT_EQ(e.code(), ErrorCode::SystemError);
  EXPECT_EQ(e.cause().errno_value, EBUSY);
  EXPECT_EQ(e.timestamp(), stamp);
}

TEST(Error, RoundTripsEveryCodeExactly) {
  std::int64_t ns = 1'714'564'800'123'456'789;  // 2024-05-01T12:00:00.123456789Z
  for (ErrorCode code : kAllCodes) {
    Error original(code, "message for " + std::string(to_string(code)),
                   ErrorCause{EPERM, "write", "/run/corral/x/state.json"}, at_ns(ns++));
    Error back = Error::deserialize(original.serialize());
    EXPECT_EQ(back, original) << original.serialize();
  }
}

TEST(Error, RoundTripKeepsNanosecondsAndOddText) {
  for (std::int64_t ns :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{999'999'999}, std::int64_t{-1},
        std::int64_t{-1'500'000'001}, std::int64_t{4'102'444'800'000'000'001}}) {
    Error original(ErrorCode::SystemError, "quote \" backslash \\ newline \n tab \t é",
                   ErrorCause{0, "", ""}, at_ns(ns));
    Error back = Error::deserialize(original.serialize());
    EXPECT_EQ(back, original) << ns;
    EXPECT_EQ(back.timestamp(), original.timestamp());
  }
  Error now(ErrorCode::Unsupported, "now");
  EXPECT_EQ(Error::deserialize(now.serialize()).timestamp(), now.timestamp());
}

TEST(Error, JsonCarriesHumanTimestamp) {
  Error e(ErrorCode::IdInUse, "x", {}, at_ns(1'714'564'800'000'000'042));
  nlohmann::json j = e.to_json();
  EXPECT_EQ(j["code"], "IdInUse");
  EXPECT_EQ(j["timestamp"], "2024-05-01T12:00:00.000000042Z");
  EXPECT_EQ(j["timestamp_ns"], 1'714'564'800'000'000'042);
}

TEST(Error, DeserializeAcceptsOnlyTheRfc3339Timestamp) {
  Error e = Error::deserialize(
      R"({"code":"ConfigInvalid","message":"m","timestamp":"2024-05-01T14:00:00.5+02:00"})");
  EXPECT_EQ(e.code(), ErrorCode::ConfigInvalid);
  EXPECT_EQ(e.timestamp(), at_ns(1'714'564'800'500'000'000));
  EXPECT_EQ(e.cause(), ErrorCause{});
}

void expect_deserialize_failure(std::string_view text, std::string_view says) {
  Error e = Error::deserialize(text);
  EXPECT_EQ(e.code(), ErrorCode::SystemError) << text;
  EXPECT_THAT(e.message(), HasSubstr("deserialize error")) << text;
  EXPECT_THAT(e.message(), HasSubstr(says)) << text;
}

TEST(Error, DeserializeReportsMalformedText) {
  expect_deserialize_failure("", "malformed JSON");
  expect_deserialize_failure("{\"code\":", "malformed JSON");
  expect_deserialize_failure("not json", "malformed JSON");
  expect_deserialize_failure("[1,2]", "expected a JSON object, got array");
  expect_deserialize_failure("\"x\"", "expected a JSON object, got string");
  expect_deserialize_failure(std::string("{\"code\":\"IdInUse\"\0}", 19), "malformed JSON");
}

TEST(Error, DeserializeReportsMissingAndWrongTypedFields) {
  expect_deserialize_failure(R"({"message":"m","timestamp_ns":1})", "missing field \"code\"");
  expect_deserialize_failure(R"({"code":"IdInUse","timestamp_ns":1})", "missing field \"message\"");
  expect_deserialize_failure(R"({"code":"IdInUse","message":"m"})", "missing field \"timestamp\"");
  expect_deserialize_failure(R"({"code":7,"message":"m","timestamp_ns":1})",
                             "field \"code\": expected a string, got unsigned integer");
  expect_deserialize_failure(R"({"code":"Nope","message":"m","timestamp_ns":1})",
                             "unknown error code \"Nope\"");
  expect_deserialize_failure(R"({"code":"IdInUse","message":null,"timestamp_ns":1})",
                             "field \"message\": expected a string, got null");
  expect_deserialize_failure(R"({"code":"IdInUse","message":"m","timestamp_ns":"1"})",
                             "field \"timestamp_ns\": expected an integer, got string");
  expect_deserialize_failure(R"({"code":"IdInUse","message":"m","timestamp_ns":1.5})",
                             "expected an integer, got number");
  expect_deserialize_failure(
      R"({"code":"IdInUse","message":"m","timestamp_ns":18446744073709551615})", "out of range");
  expect_deserialize_failure(R"({"code":"IdInUse","message":"m","timestamp":"yesterday"})",
                             "is not an RFC 3339 time");
  expect_deserialize_failure(R"({"code":"IdInUse","message":"m","timestamp_ns":1,"cause":[]})",
                             "field \"cause\": expected an object, got array");
  expect_deserialize_failure(
      R"({"code":"IdInUse","message":"m","timestamp_ns":1,"cause":{"errno":"EPERM"}})",
      "cause.errno");
  expect_deserialize_failure(
      R"({"code":"IdInUse","message":"m","timestamp_ns":1,"cause":{"errno":-3}})", "cause.errno");
  expect_deserialize_failure(
      R"({"code":"IdInUse","message":"m","timestamp_ns":1,"cause":{"path":{}}})",
      "field \"cause.path\": expected a string, got object");
}

TEST(Error, DeserializeRefusesOversizedText) {
  std::string big =
      Error(ErrorCode::SystemError, std::string(Error::kMaxSerializedSize, 'x')).serialize();
  ASSERT_GT(big.size(), Error::kMaxSerializedSize);
  expect_deserialize_failure(big, "more than the 65536 allowed");

  // Just under the limit still works.
  Error fits(ErrorCode::SystemError, std::string(Error::kMaxSerializedSize - 200, 'y'));
  ASSERT_LE(fits.serialize().size(), Error::kMaxSerializedSize);
  EXPECT_EQ(Error::deserialize(fits.serialize()), fits);
}

TEST(Error, DeserializeSurvivesDeepNesting) {
  std::string deep(Error::kMaxSerializedSize / 2, '[');
  deep += std::string(Error::kMaxSerializedSize / 2, ']');
  expect_deserialize_failure(deep, "expected a JSON object, got array");
  expect_deserialize_failure(std::string(Error::kMaxSerializedSize, '{'), "malformed JSON");
}

TEST(Error, SerializeNeverThrowsOnInvalidUtf8) {
  Error e(ErrorCode::SystemError, std::string("open /tmp/\xff\xfe: bad"));
  std::string text;
  ASSERT_NO_THROW(text = e.serialize());
  Error back = Error::deserialize(text);
  EXPECT_EQ(back.code(), ErrorCode::SystemError);
  EXPECT_THAT(back.message(), HasSubstr("open /tmp/"));
}

}  // namespace
}  // namespace corral
