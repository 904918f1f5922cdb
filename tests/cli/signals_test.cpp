#include "apps/corral/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace corral::cli {
namespace {

TEST(Signals, NamesInAnyCaseWithOrWithoutSig) {
  for (const char* text : {"KILL", "SIGKILL", "kill", "sigkill", "SigKill", "9"}) {
    auto signal = parse_signal(text);
    ASSERT_TRUE(signal) << text;
    EXPECT_EQ(*signal, SIGKILL) << text;
  }
  EXPECT_EQ(*parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("hup"), SIGHUP);
  EXPECT_EQ(*parse_signal("USR1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("SIGWINCH"), SIGWINCH);
  EXPECT_EQ(*parse_signal("CLD"), SIGCHLD);
  EXPECT_EQ(*parse_signal("15"), SIGTERM);
}

TEST(Signals, RealTime) {
  EXPECT_EQ(*parse_signal("RTMIN"), SIGRTMIN);
  EXPECT_EQ(*parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(*parse_signal("rtmax-1"), SIGRTMAX - 1);
  EXPECT_EQ(*parse_signal(std::to_string(SIGRTMAX)), SIGRTMAX);
  EXPECT_FALSE(parse_signal("RTMIN+100"));
  EXPECT_FALSE(parse_signal("RTMIN-1"));
}

TEST(Signals, Unknown) {
  EXPECT_EQ(parse_signal("FOO").error(), "unknown signal \"FOO\"");
  EXPECT_EQ(parse_signal("SIG").error(), "unknown signal \"SIG\"");
  EXPECT_FALSE(parse_signal(""));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_FALSE(parse_signal("65"));
  EXPECT_FALSE(parse_signal("9x"));
  EXPECT_FALSE(parse_signal("-9"));
}

TEST(Signals, NamesForNumbers) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT_EQ(signal_name(1000), "signal 1000");
  for (int s = 1; s < SIGRTMIN; ++s) {
    if (signal_name(s).starts_with("signal ")) continue;  // 32, 33: glibc's own
    EXPECT_EQ(*parse_signal(signal_name(s)), s) << s;
  }
}

}  // namespace
}  // namespace corral::cli
