#include "runtime/spec/mount_options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

namespace corral {
namespace {

struct OptionCase {
  std::vector<std::string> options;
  unsigned long flags;
  unsigned long clear_flags;
  unsigned long propagation;
  std::string data;
};

class MountOptionTable : public ::testing::TestWithParam<OptionCase> {};

TEST_P(MountOptionTable, ParsesIntoFlagsAndData) {
  const OptionCase& c = GetParam();
  auto parsed = parse_mount_options(c.options);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->flags, c.flags);
  EXPECT_EQ(parsed->clear_flags, c.clear_flags);
  EXPECT_EQ(parsed->propagation_flags, c.propagation);
  EXPECT_EQ(parsed->data, c.data);
}

INSTANTIATE_TEST_SUITE_P(
    Options, MountOptionTable,
    ::testing::Values(
        OptionCase{{}, 0, 0, 0, ""}, OptionCase{{"defaults"}, 0, 0, 0, ""},
        OptionCase{{"ro"}, MS_RDONLY, 0, 0, ""}, OptionCase{{"rw"}, 0, MS_RDONLY, 0, ""},
        OptionCase{{"ro", "rw"}, 0, MS_RDONLY, 0, ""},  // the last one wins
        OptionCase{{"rw", "ro"}, MS_RDONLY, 0, 0, ""},
        OptionCase{{"nosuid", "nodev", "noexec"}, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, ""},
        OptionCase{{"suid", "dev", "exec"}, 0, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, ""},
        OptionCase{{"sync", "dirsync", "remount", "mand"},
                   MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK,
                   0,
                   0,
                   ""},
        OptionCase{{"async", "nomand"}, 0, MS_SYNCHRONOUS | MS_MANDLOCK, 0, ""},
        OptionCase{{"noatime", "nodiratime", "relatime", "strictatime"},
                   MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME,
                   0,
                   0,
                   ""},
        OptionCase{{"atime", "diratime", "norelatime", "nostrictatime"},
                   0,
                   MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME,
                   0,
                   ""},
        OptionCase{{"lazytime", "iversion", "nosymfollow"},
                   MS_LAZYTIME | MS_I_VERSION | MS_NOSYMFOLLOW,
                   0,
                   0,
                   ""},
        OptionCase{{"bind"}, MS_BIND, 0, 0, ""}, OptionCase{{"rbind"}, MS_BIND | MS_REC, 0, 0, ""},
        OptionCase{{"private"}, 0, 0, MS_PRIVATE, ""},
        OptionCase{{"rprivate"}, 0, 0, MS_PRIVATE | MS_REC, ""},
        OptionCase{{"shared"}, 0, 0, MS_SHARED, ""},
        OptionCase{{"rshared"}, 0, 0, MS_SHARED | MS_REC, ""},
        OptionCase{{"slave"}, 0, 0, MS_SLAVE, ""},
        OptionCase{{"rslave"}, 0, 0, MS_SLAVE | MS_REC, ""},
        OptionCase{{"unbindable"}, 0, 0, MS_UNBINDABLE, ""},
        OptionCase{{"runbindable"}, 0, 0, MS_UNBINDABLE | MS_REC, ""},
        OptionCase{
            {"rbind", "rprivate", "ro"}, MS_BIND | MS_REC | MS_RDONLY, 0, MS_PRIVATE | MS_REC, ""},
        OptionCase{{"nosuid", "strictatime", "mode=755", "size=65536k"},
                   MS_NOSUID | MS_STRICTATIME,
                   0,
                   0,
                   "mode=755,size=65536k"},
        OptionCase{{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "noexec"},
                   MS_NOEXEC,
                   0,
                   0,
                   "newinstance,ptmxmode=0666,mode=0620,gid=5"}));

TEST(MountOptions, RefusesOptionsCorralCannotHonour) {
  for (const char* option : {"idmap", "ridmap", "rro", "rnosuid", "rnoexec", "tmpcopyup"}) {
    auto parsed = parse_mount_options({"rbind", option});
    ASSERT_FALSE(parsed) << option;
    EXPECT_EQ(parsed.error().code(), ErrorCode::ConfigInvalid);
    EXPECT_THAT(parsed.error().message(), ::testing::HasSubstr(std::string("\"") + option + "\""));
  }
  auto empty = parse_mount_options({"ro", ""});
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), ::testing::HasSubstr("empty mount option"));
}

}  // namespace
}  // namespace corral
