// The init-pipe protocol: framing, limits, message codecs and the Config serialization.
#include "runtime/spec/protocol.hpp"

#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace corral::protocol {
namespace {

using ::testing::HasSubstr;

SyncMessage sync(SyncType type) {
  SyncMessage m;
  m.type = type;
  return m;
}

TEST(SyncMessageTest, EncodesAsOneJsonLineWithTheSeedsNames) {
  EXPECT_EQ(encode(sync(SyncType::ProcReady)), "{\"type\":\"procReady\"}\n");
  EXPECT_EQ(encode(sync(SyncType::ProcRun)), "{\"type\":\"procRun\"}\n");
  EXPECT_EQ(encode(sync(SyncType::ProcError)), "{\"type\":\"procError\"}\n");
  EXPECT_EQ(encode(sync(SyncType::ProcHooks)), "{\"type\":\"procHooks\"}\n");
  EXPECT_EQ(encode(sync(SyncType::ProcResume)), "{\"type\":\"procResume\"}\n");
  SyncMessage failed{SyncType::ProcExecFailed, ENOENT, "/bin/x"};
  EXPECT_EQ(encode(failed), "{\"errno\":2,\"path\":\"/bin/x\",\"type\":\"procExecFailed\"}\n");
}

TEST(SyncMessageTest, RoundTrips) {
  for (auto type : {SyncType::ProcReady, SyncType::ProcRun, SyncType::ProcError,
                    SyncType::ProcHooks, SyncType::ProcResume}) {
    std::string line = encode(sync(type));
    auto decoded = decode_sync(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, sync(type));
  }
  SyncMessage failed{SyncType::ProcExecFailed, EACCES, "with\nnewline"};
  std::string line = encode(failed);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the path's newline is escaped
  auto decoded = decode_sync(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, failed);
}

TEST(SyncMessageTest, RejectsMalformedMessages) {
  for (std::string_view bad : {"", "not json", "[1,2]", "{}", "{\"type\":3}",
                               "{\"type\":\"procBogus\"}", "{\"type\":\"procExecFailed\"}",
                               "{\"type\":\"procExecFailed\",\"errno\":\"x\",\"path\":\"/\"}"}) {
    auto decoded = decode_sync(bad);
    EXPECT_FALSE(decoded) << bad;
    if (!decoded) {
      EXPECT_THAT(decoded.error().message(), HasSubstr("init pipe"));
    }
  }
}

TEST(FrameReaderTest, YieldsFramesFedByteByByte) {
  std::string stream = encode(sync(SyncType::ProcHooks)) + encode(sync(SyncType::ProcReady));
  FrameReader reader;
  std::vector<std::string> frames;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    for (;;) {
      auto frame = reader.next();
      ASSERT_TRUE(frame);
      if (!*frame) break;
      frames.push_back(**frame);
    }
  }
  EXPECT_EQ(frames,
            (std::vector<std::string>{"{\"type\":\"procHooks\"}", "{\"type\":\"procReady\"}"}));
  reader.feed_eof();
  auto end = reader.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  EXPECT_TRUE(reader.at_eof());
}

TEST(FrameReaderTest, YieldsSeveralFramesFromOneFeed) {
  FrameReader reader;
  reader.feed("{\"a\":1}\n{\"b\":2}\n{\"c\"");
  EXPECT_EQ(**reader.next(), "{\"a\":1}");
  EXPECT_EQ(**reader.next(), "{\"b\":2}");
  EXPECT_FALSE(*reader.next());  // needs more
  reader.feed(":3}\n");
  EXPECT_EQ(**reader.next(), "{\"c\":3}");
}

TEST(FrameReaderTest, RejectsAnOversizedFrameWithoutKeepingIt) {
  FrameReader reader(16);
  reader.feed(std::string(16, 'x'));
  auto frame = reader.next();
  ASSERT_FALSE(frame);
  EXPECT_THAT(frame.error().message(), HasSubstr("exceeds 16 bytes"));
  reader.feed("more\n");
  EXPECT_FALSE(reader.next());  // stays failed: the framing is lost
}

TEST(FrameReaderTest, AcceptsAFrameOfExactlyTheLimit) {
  FrameReader reader(8);
  reader.feed("1234567\n");
  auto frame = reader.next();
  ASSERT_TRUE(frame);
  EXPECT_EQ(**frame, "1234567");
  reader.feed("12345678\n");
  EXPECT_FALSE(reader.next());
}

TEST(FrameReaderTest, RejectsTruncatedAndEmptyFrames) {
  FrameReader truncated;
  truncated.feed("{\"type\":\"procRe");
  truncated.feed_eof();
  auto frame = truncated.next();
  ASSERT_FALSE(frame);
  EXPECT_THAT(frame.error().message(), HasSubstr("truncated"));

  FrameReader empty;
  empty.feed("\n");
  EXPECT_FALSE(empty.next());
}

TEST(FrameReaderTest, BlockingReadOverASocketpair) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_TRUE(write_all(fds[0], encode(sync(SyncType::ProcRun)) + "{\"type\":\"procRe"));
  ::close(fds[0]);
  FrameReader reader;
  auto first = read_frame(fds[1], reader);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "{\"type\":\"procRun\"}");
  auto second = read_frame(fds[1], reader);
  ASSERT_FALSE(second);
  EXPECT_THAT(second.error().message(), HasSubstr("truncated"));
  ::close(fds[1]);
}

Config sample_config() {
  Config c;
  c.oci_version = "1.1.0";
  c.bundle = "/bundle";
  c.root = {"/bundle/rootfs", true};
  c.hostname = "h";
  c.domainname = "d";
  Process p;
  p.terminal = false;
  p.console_size = ConsoleSize{24, 80};
  p.user.uid = 1;
  p.user.gid = 2;
  p.user.umask = 022;
  p.user.additional_gids = {3, 4};
  p.args = {"sh", "-c", "x"};
  p.env = {"A=b"};
  p.cwd = "/w";
  p.capabilities = Capabilities{{"CAP_KILL"}, {"CAP_CHOWN"}, {}, {"CAP_KILL"}, {}};
  p.rlimits = {{7, "RLIMIT_NOFILE", 10, 20}};
  p.no_new_privileges = true;
  p.oom_score_adj = -5;
  c.process = p;
  Mount m;
  m.destination = "/d";
  m.type = "bind";
  m.source = "/s";
  m.options = {"rbind", "ro", "rslave"};
  m.flags = MS_BIND | MS_REC | MS_RDONLY;
  m.propagation_flags = MS_SLAVE | MS_REC;
  m.data = "size=1";
  c.mounts = {m};
  c.annotations = {{"k", "v"}};
  Linux& l = c.linux_spec;
  l.namespaces = {{NamespaceType::Pid, ""}, {NamespaceType::Network, "/proc/1/ns/net"}};
  l.uid_mappings = {{0, 1000, 1}};
  l.gid_mappings = {{0, 2000, 2}};
  Device d;
  d.path = "/dev/fuse";
  d.type = 'c';
  d.major = 10;
  d.minor = 229;
  d.file_mode = 0666;
  l.devices = {d};
  l.cgroups_path = "/c";
  l.sysctl = {{"net.ipv4.ip_forward", "1"}};
  l.masked_paths = {"/proc/kcore"};
  l.readonly_paths = {"/proc/sys"};
  l.rootfs_propagation = "rslave";
  Seccomp s;
  s.default_action = SeccompAction::Errno;
  s.default_errno_ret = 38;
  s.architectures = {"SCMP_ARCH_X86_64"};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  SeccompSyscall call;
  call.names = {"personality"};
  call.action = SeccompAction::Allow;
  call.args = {{0, 8, 0, SeccompOperator::EqualTo}, {0, 0xff, 0x10, SeccompOperator::MaskedEqual}};
  s.syscalls = {call};
  l.seccomp = s;
  return c;
}

void expect_same(const Config& a, const Config& b) {
  // Config has no operator==; its JSON form compares every carried field.
  EXPECT_EQ(config_to_json(a), config_to_json(b));
  EXPECT_EQ(a.process->user.umask, b.process->user.umask);
  EXPECT_EQ(a.linux_spec.seccomp->syscalls[0].args[1].value_two,
            b.linux_spec.seccomp->syscalls[0].args[1].value_two);
}

TEST(BootstrapTest, ForTheInitLeavesOutHooksAndAnnotations) {
  Bootstrap b;
  b.container_id = "abc";
  b.config = sample_config();
  b.config.annotations["org.example"] = "value";
  Hook hook;
  hook.path = "/usr/bin/hook";
  b.config.hooks.prestart.push_back(hook);
  auto line = encode_for_init(b);
  ASSERT_TRUE(line) << line.error().what();
  auto decoded = decode_bootstrap(std::string_view(*line).substr(0, line->size() - 1));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(decoded->config.annotations.empty());
  EXPECT_TRUE(decoded->config.hooks.prestart.empty());
  EXPECT_EQ(decoded->config.process->args, b.config.process->args);
}

TEST(BootstrapTest, ForTheInitOverTheLimitIsAnErrorNamingTheContainer) {
  Bootstrap b;
  b.container_id = "huge";
  b.config = sample_config();
  b.config.process->env.push_back("BIG=" + std::string(kMaxBootstrapSize, 'x'));
  auto line = encode_for_init(b);
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().code(), ErrorCode::ConfigInvalid);
  EXPECT_NE(line.error().message().find("container huge: the configuration is"), std::string::npos)
      << line.error().message();
  EXPECT_NE(line.error().message().find("limit"), std::string::npos);
}

TEST(BootstrapTest, RoundTripsEveryField) {
  Bootstrap b;
  b.init_type = InitType::Setns;
  b.container_id = "abc";
  b.bundle = "/bundle";
  b.config = sample_config();
  b.no_pivot = true;
  b.console_socket_fd = 5;
  b.preserved_fds = 2;
  b.exec_fifo_path = "/run/corral/abc/exec.fifo";
  b.exec_fifo_fd = 4;
  std::string line = encode(b);
  ASSERT_EQ(line.find('\n'), line.size() - 1);
  auto decoded = decode_bootstrap(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->init_type, InitType::Setns);
  EXPECT_EQ(decoded->container_id, "abc");
  EXPECT_EQ(decoded->bundle, "/bundle");
  EXPECT_TRUE(decoded->no_pivot);
  EXPECT_EQ(decoded->console_socket_fd, 5);
  EXPECT_EQ(decoded->preserved_fds, 2u);
  EXPECT_EQ(decoded->exec_fifo_path, b.exec_fifo_path);
  EXPECT_EQ(decoded->exec_fifo_fd, 4);
  expect_same(decoded->config, b.config);
  EXPECT_EQ(decoded->config.mounts[0].flags,
            static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_EQ(decoded->config.linux_spec.namespaces[1].path, "/proc/1/ns/net");
}

TEST(BootstrapTest, RejectsWrongOrBrokenBootstraps) {
  EXPECT_FALSE(decode_bootstrap("{\"type\":\"procReady\"}"));
  EXPECT_FALSE(decode_bootstrap("{\"type\":\"bootstrap\"}"));
  EXPECT_FALSE(decode_bootstrap(
      "{\"type\":\"bootstrap\",\"initType\":\"weird\",\"id\":\"a\",\"config\":{}}"));
  auto no_root = decode_bootstrap(
      "{\"type\":\"bootstrap\",\"initType\":\"standard\",\"id\":\"a\",\"config\":{}}");
  ASSERT_FALSE(no_root);
  EXPECT_THAT(no_root.error().message(), HasSubstr("malformed config"));
  auto bad_ns = nlohmann::json::parse(encode(Bootstrap{}));
  bad_ns["config"]["linux"]["namespaces"] = {{{"type", "bogus"}}};
  EXPECT_FALSE(decode_bootstrap(bad_ns.dump()));
  auto bad_action = nlohmann::json::parse(encode(Bootstrap{}));
  bad_action["config"]["linux"]["seccomp"] = {{"defaultAction", 99}};
  EXPECT_FALSE(decode_bootstrap(bad_action.dump()));
}

TEST(ErrorLineTest, TheLineAfterProcErrorIsTheSerializedError) {
  Error e(ErrorCode::SystemError, "mount proc to /proc: permission denied",
          ErrorCause{EACCES, "mount", "/proc"});
  std::string line = encode_error(e);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(decode_error(std::string_view(line).substr(0, line.size() - 1)), e);
}

}  // namespace
}  // namespace corral::protocol
