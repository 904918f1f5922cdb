#include "apps/corral/ps_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace corral::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(PsTable, CpuTimeIsClockTimeWithDays) {
  EXPECT_EQ(format_cpu_time(0), "00:00:00");
  EXPECT_EQ(format_cpu_time(3 * 3600 + 4 * 60 + 5), "03:04:05");
  EXPECT_EQ(format_cpu_time(2 * 86400 + 61), "2-00:01:01");
}

TEST(PsTable, StartTimeIsTheClockTodayAndTheDateBefore) {
  const std::time_t now = std::time(nullptr);
  struct tm local {};
  ::localtime_r(&now, &local);
  char expected[16];
  std::strftime(expected, sizeof expected, "%H:%M", &local);
  EXPECT_EQ(format_start_time(now, now), expected);
  const std::time_t long_ago = now - 3 * 86400;
  ::localtime_r(&long_ago, &local);
  std::strftime(expected, sizeof expected, "%b%d", &local);
  EXPECT_EQ(format_start_time(long_ago, now), expected);
}

TEST(PsTable, TerminalNames) {
  EXPECT_EQ(tty_name(0), "?");
  EXPECT_EQ(tty_name(::makedev(136, 3)), "pts/3");
  EXPECT_EQ(tty_name(::makedev(137, 1)), "pts/257");
  EXPECT_EQ(tty_name(::makedev(4, 1)), "tty1");
  EXPECT_EQ(tty_name(::makedev(4, 65)), "ttyS1");
}

TEST(PsTable, OwnRowAndTheHeaderOfPsEf) {
  auto row = read_ps_row(::getpid());
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->pid, ::getpid());
  EXPECT_EQ(row->ppid, ::getppid());
  EXPECT_THAT(row->command, HasSubstr("test_cli"));
  EXPECT_GE(row->cpu_percent, 0);
  EXPECT_LE(row->cpu_percent, 99);
  const std::string table = format_ps_table({*row});
  EXPECT_THAT(table, StartsWith("UID          PID    PPID  C STIME TTY          TIME CMD\n"));
  EXPECT_THAT(table, HasSubstr(" " + std::to_string(::getpid()) + " "));
  EXPECT_FALSE(read_ps_row(0).has_value());
}

}  // namespace
}  // namespace corral::cli
