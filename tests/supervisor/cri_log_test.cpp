#include "runtime/supervisor/cri_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli/temp_dir.hpp"

namespace corral::supervisor {
namespace {

using cli::testing::TempDir;

std::vector<LogEntry> split(CriLineSplitter& s, std::initializer_list<std::string_view> chunks,
                            bool finish = false) {
  std::vector<LogEntry> out;
  for (auto c : chunks) s.feed(c, out);
  if (finish) s.finish(out);
  return out;
}

std::string describe(const std::vector<LogEntry>& entries) {
  std::string out;
  for (const auto& e : entries)
    out += std::string(to_string(e.stream)) + (e.partial ? " P " : " F ") + e.text + "|";
  return out;
}

TEST(CriLog, TimestampIsRfc3339NanoInUtc) {
  EXPECT_EQ(format_rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_nano(1'475'713'029'669'794'202), "2016-10-06T00:17:09.669794202Z");
}

TEST(CriLog, LineFormat) {
  EXPECT_EQ(format_cri_line(LogEntry{LogStream::Stderr, false, "boom"}, 1'000'000'001),
            "1970-01-01T00:00:01.000000001Z stderr F boom\n");
  EXPECT_EQ(format_cri_line(LogEntry{LogStream::Stdout, true, "par"}, 0),
            "1970-01-01T00:00:00.000000000Z stdout P par\n");
}

TEST(CriLineSplitter, FullLinesAcrossChunks) {
  CriLineSplitter s(LogStream::Stdout);
  EXPECT_EQ(describe(split(s, {"hel", "lo\nwor", "ld\n\nx"})),
            "stdout F hello|stdout F world|stdout F |");
  EXPECT_EQ(describe(split(s, {}, true)), "stdout F x|");
  EXPECT_EQ(describe(split(s, {}, true)), "");  // nothing left
}

TEST(CriLineSplitter, LongLinesLeaveInPartialPieces) {
  CriLineSplitter s(LogStream::Stderr, 4);
  EXPECT_EQ(describe(split(s, {"abcdefghij\n"})), "stderr P abcd|stderr P efgh|stderr F ij|");
  EXPECT_EQ(describe(split(s, {"ab", "cd", "ef"})), "stderr P abcd|");
  EXPECT_EQ(describe(split(s, {"\n"})), "stderr F ef|");
  // Exactly max_line is still one full line; one byte more splits it.
  EXPECT_EQ(describe(split(s, {"wxyz", "\n"})), "stderr F wxyz|");
  EXPECT_EQ(describe(split(s, {"wxyz", "a\n"})), "stderr P wxyz|stderr F a|");
  // A long line cut at the end of the stream still ends with an F piece.
  EXPECT_EQ(describe(split(s, {"abcdefgh"}, true)), "stderr P abcd|stderr F efgh|");
}

TEST(LogWriter, AppendsCriLinesAndTellsObservers) {
  TempDir dir;
  auto w = LogWriter::open(dir.file("c.log"));
  ASSERT_TRUE(w) << w.error().what();
  std::vector<std::string> seen;
  auto handle = w->observe([&](std::string_view line) { seen.emplace_back(line); });
  ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "one"}, 0));
  w->unobserve(handle);
  ASSERT_TRUE(w->write(LogEntry{LogStream::Stderr, true, "two"}, 0));
  EXPECT_EQ(dir.read("c.log"),
            "1970-01-01T00:00:00.000000000Z stdout F one\n"
            "1970-01-01T00:00:00.000000000Z stderr P two\n");
  EXPECT_EQ(seen, (std::vector<std::string>{"1970-01-01T00:00:00.000000000Z stdout F one\n"}));
  EXPECT_EQ(std::filesystem::status(dir.file("c.log")).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(LogWriter, RotatesBySizeKeepingTheGivenCount) {
  TempDir dir;
  // Each line is 30 (timestamp) + 8 (" stdout ") + 2 ("F ") + 2 text + 1 = 43 bytes: two fit.
  auto w = LogWriter::open(dir.file("c.log"), LogRotation{90, 2});
  ASSERT_TRUE(w);
  for (int i = 0; i < 9; ++i)
    ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "l" + std::to_string(i)}, 0));
  auto text = [&](const std::string& name) {
    std::string all = dir.read(name), out;
    for (std::size_t p = 0; (p = all.find(" F ", p)) != std::string::npos; p += 3)
      out += all.substr(p + 3, 2) + ",";
    return out;
  };
  EXPECT_EQ(text("c.log"), "l8,");
  EXPECT_EQ(text("c.log.1"), "l6,l7,");
  EXPECT_EQ(text("c.log.2"), "l4,l5,");
  EXPECT_FALSE(std::filesystem::exists(dir.file("c.log.3")));
  EXPECT_EQ(w->files(), (std::vector<std::string>{dir.file("c.log.2"), dir.file("c.log.1"),
                                                  dir.file("c.log")}));
  EXPECT_LE(std::filesystem::file_size(dir.file("c.log.1")), 90u);
}

TEST(LogWriter, KeepingNoneStartsTheFileAgain) {
  TempDir dir;
  auto w = LogWriter::open(dir.file("c.log"), LogRotation{50, 0});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "aa"}, 0));
  ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "bb"}, 0));
  EXPECT_EQ(dir.read("c.log"), "1970-01-01T00:00:00.000000000Z stdout F bb\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("c.log.1")));
}

TEST(LogWriter, ReopeningAppendsAndCountsTheExistingSize) {
  TempDir dir;
  {
    auto w = LogWriter::open(dir.file("c.log"));
    ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "a"}, 0));
  }
  auto w = LogWriter::open(dir.file("c.log"));
  EXPECT_EQ(w->size(), 42u);
  ASSERT_TRUE(w->write(LogEntry{LogStream::Stdout, false, "b"}, 0));
  EXPECT_EQ(std::filesystem::file_size(dir.file("c.log")), 84u);
}

TEST(LogWriter, OpenFailureNamesThePath) {
  auto w = LogWriter::open("/nonexistent-dir/c.log");
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().what().find("/nonexistent-dir/c.log"), std::string::npos);
}

}  // namespace
}  // namespace corral::supervisor
