// A group's directories, held as shared roots and one path below them, give back exactly what
// they were made from.
#include "runtime/cgroups/group_dirs.hpp"

#include <gtest/gtest.h>

namespace corral::cgroups {
namespace {

using Dirs = std::map<std::string, std::string>;

TEST(GroupDirsTest, RootsAndThePathBelowMakeEachDirectory) {
  GroupDirs dirs({{"memory", "/sys/fs/cgroup/memory"}, {"pids", "/sys/fs/cgroup/pids"}},
                 "/corral/a");
  EXPECT_EQ(dirs.find("memory"), "/sys/fs/cgroup/memory/corral/a");
  EXPECT_EQ(dirs.find("cpuset"), std::nullopt);
  EXPECT_EQ(dirs.all(), (Dirs{{"memory", "/sys/fs/cgroup/memory/corral/a"},
                              {"pids", "/sys/fs/cgroup/pids/corral/a"}}));
}

TEST(GroupDirsTest, RecordedDirectoriesComeBackExactlyWhateverTheirShape) {
  const Dirs shapes[] = {
      {{"memory", "/sys/fs/cgroup/memory/corral/a"},
       {"name=systemd", "/sys/fs/cgroup/systemd/corral/a"}},
      {{"memory", "/sys/fs/cgroup/memory/x/a"}, {"pids", "/sys/fs/cgroup/pids/y/b"}},
      {{"memory", "/sys/fs/cgroup/memory/corral/a"}},
      {{"cpu", "/sys/fs/cgroup/cpu,cpuacct/g"}, {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct/g"}},
      {{"memory", "/m/a/b"}, {"pids", "/a/b"}},
      {},
  };
  for (const Dirs& recorded : shapes) EXPECT_EQ(GroupDirs::from_dirs(recorded).all(), recorded);
}

}  // namespace
}  // namespace corral::cgroups
