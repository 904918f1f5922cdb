#pragma once
// The init-pipe protocol: what the runtime (the parent) and corral-init (the child that becomes
// the container) say to each other over the init pipe, a SOCK_STREAM socketpair (a pipe pair
// works too).
//
// Environment of corral-init (read, then cleared, by start_initialization()):
//   _LIBCONTAINER_INITPIPE  the fd number of the child's end of the init pipe. It must be above
//                           the preserved fds (3 .. 3+preservedFds-1).
//   _LIBCONTAINER_INITTYPE  "standard" (create a container) or "setns" (exec into a running one).
//
// Framing: one JSON object per line (newline-delimited JSON, '\n' terminated). JSON text never
// contains a raw newline (encoders escape it), so a line is exactly one message. Limits: the
// bootstrap line may be up to kMaxBootstrapSize bytes, every other line up to kMaxMessageSize
// (newline included). FrameReader enforces them; a line over the limit, an empty line, text that
// is not a JSON object, or bytes left without a newline at end of stream are errors.
//
// Sync messages are {"type":"<name>"} with the names of SyncType below; procExecFailed also has
// "errno" (int) and "path" (the program as the process args named it).
//
// Standard init ("standard"): the parent created the child with clone3() in the namespaces of
// the config, except the cgroup namespace (see step 4). With a new user namespace the parent has
// written its uid/gid maps before the init was exec'd, and the init starts as root of its
// namespace (runtime/init_launch.hpp): no message of this protocol is involved.
// Fds of the standard init: 0-2 stdio, 3 the init pipe, 4 an O_PATH descriptor of the exec
// fifo (Bootstrap.execFifoFd says so).
//   1. parent -> init: the Bootstrap line. The parent sends it only once the child is in the
//      container's cgroup.
//   2. init: mount propagation, the rootfs bind, config mounts, /dev (all before pivot_root).
//   3. init -> parent: {"type":"procHooks"}; parent runs the prestart and createRuntime hooks
//      (in its own namespaces) and the createContainer hooks (in the init's namespaces, still
//      before pivot_root), if any, and answers parent -> init: {"type":"procResume"}. Always
//      exchanged, hooks or not.
//   4. init: unshare(CLONE_NEWCGROUP) when the config asks for a new cgroup namespace, so that
//      the namespace's root is the container's cgroup. Then pivot_root, hostname, sysctls,
//      masked/readonly paths, readonly root, rlimits, oom_score_adj, signal reset.
//   5. init -> parent: {"type":"procReady"}; parent -> init: {"type":"procRun"}.
//   6. init: user, capabilities, cwd, seccomp, fd closing. If Bootstrap.execFifoPath is set
//      (runc's create/start split), the init then says {"type":"procCreated"} (every setup step
//      is done: `create` can return, having seen any setup failure), blocks opening that fifo
//      for writing (it was passed as Bootstrap.execFifoFd, or else opened O_PATH before
//      pivot_root, and is reopened via /proc/self/fd, so the container needs /proc) and writes
//      one byte "0": `start` is whoever opens the fifo for reading (after running the
//      startContainer hooks in the init's namespaces).
//   7. init: finds the program (PATH search) and execs; only now, after start, can an exec
//      failure happen, so `create` never fails for a missing binary. The init pipe is
//      close-on-exec: the parent reading end-of-stream after procRun, with no procExecFailed before
//      it, knows the exec happened (or the child died: reap it to tell).
//   Setup failure at any step: init -> parent: {"type":"procError"} then one line holding
//   Error::serialize() (its message names the step and the path), then the init exits 1.
//   Exec failure (step 7): not a library error. init -> parent: {"type":"procExecFailed",
//   "errno":E,"path":P}; then the init prints to stderr `exec: "P": <reason>` and exits 127
//   (not found) or 126 (found but not executable), as a shell would.
//
// Setns init ("setns"): exec'd by a process already in the container's namespaces and cgroup.
//   1. parent -> init: the Bootstrap line (its config's process is the one to run).
//   2. init: rlimits, oom_score_adj, signal reset, user, capabilities, cwd, seccomp, then exec;
//      no procHooks/procReady handshake.
//   Setup failure: the serialized Error alone (no procError first), as runc's sendError does.
//   Exec failure: as for the standard init.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::protocol {

inline constexpr std::size_t kMaxBootstrapSize = 1024 * 1024;
inline constexpr std::size_t kMaxMessageSize = 64 * 1024;

inline constexpr const char* kInitPipeEnv = "_LIBCONTAINER_INITPIPE";
inline constexpr const char* kInitTypeEnv = "_LIBCONTAINER_INITTYPE";

enum class SyncType {
  ProcReady,
  ProcRun,
  ProcError,
  ProcHooks,
  ProcResume,
  ProcExecFailed,
  ProcCreated,
};

// "procReady", "procRun", ...; parse returns false for an unknown name.
std::string_view to_string(SyncType type);
bool parse_sync_type(std::string_view name, SyncType& out);

struct SyncMessage {
  SyncType type = SyncType::ProcReady;
  // procExecFailed only: the execve errno (ENOENT when PATH lookup found nothing) and the
  // program as written in process.args[0].
  int errno_value = 0;
  std::string path;

  bool operator==(const SyncMessage&) const = default;
};

enum class InitType { Standard, Setns };
std::string_view to_string(InitType type);
bool parse_init_type(std::string_view name, InitType& out);

// The first line on the pipe, parent -> init. JSON:
// {"type":"bootstrap","initType":"standard","id":..,"bundle":..,"config":{..},"noPivot":false,
//  "consoleSocketFd":-1,"preservedFds":0,"execFifoPath":"","execFifoFd":-1}
// "config" is corral's own serialization of Config (config_to_json below), not OCI config.json:
// it carries the already-parsed and resolved model, so the init needs no OCI parser.
struct Bootstrap {
  InitType init_type = InitType::Standard;
  std::string container_id;
  std::string bundle;
  Config config;
  bool no_pivot = false;       // MS_MOVE + chroot instead of pivot_root (rootfs on ramfs)
  int console_socket_fd = -1;  // process.terminal: the init sends the pty master over it
  unsigned preserved_fds = 0;  // fds 3 .. 3+N-1 stay open across exec
  std::string exec_fifo_path;  // empty: exec right after procRun
  // The init's fd number of an O_PATH descriptor of that fifo, opened by the parent (-1: the
  // init opens exec_fifo_path itself). The init of a user namespace is not privileged over the
  // runtime's 0700 state directory, so it could not reach the fifo by its path.
  int exec_fifo_fd = -1;
};

// Encoders return one complete line, '\n' included.
std::string encode(const SyncMessage& message);
std::string encode(const Bootstrap& bootstrap);
std::string encode_error(const Error& error);  // Error::serialize() + '\n'
// The bootstrap line as the runtime sends it: without what only the runtime reads (hooks,
// annotations), and an error naming the container when it is still over kMaxBootstrapSize, so
// a huge config.json fails with its cause instead of a broken init pipe.
Expected<std::string> encode_for_init(Bootstrap bootstrap);

// Decoders take one frame (a line without its '\n', as FrameReader yields). Never throw.
Expected<SyncMessage> decode_sync(std::string_view frame);
Expected<Bootstrap> decode_bootstrap(std::string_view frame);
// The line after procError (or the setns init's only error line). A frame that is not a
// serialized Error becomes a SystemError saying so (Error::deserialize's contract).
Error decode_error(std::string_view frame);

// corral's serialization of the Config model (every field but hooks and resources, which the
// parent applies). Exact round trip for what it carries, derived mount flags included.
nlohmann::json config_to_json(const Config& config);
Expected<Config> config_from_json(const nlohmann::json& json);

// Accumulates bytes and cuts them into frames. Usable blocking (read_frame below) and
// non-blocking: feed() whatever an asynchronous read returned, then call next() until it says it
// needs more bytes. Memory is bounded by max_frame: bytes past an over-long line are not kept.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame = kMaxMessageSize) : max_frame_(max_frame) {}

  // The limit for the frames still to come (newline included).
  void set_max_frame(std::size_t max_frame) { max_frame_ = max_frame; }
  std::size_t max_frame() const { return max_frame_; }

  void feed(std::string_view bytes);
  // The writer closed its end: bytes left without a newline are a truncated frame.
  void feed_eof() { eof_ = true; }
  bool at_eof() const { return eof_ && pending_.empty(); }

  // A complete frame (without '\n'); nullopt when more bytes are needed (or, at_eof(), when the
  // stream ended cleanly); an Error for an oversized, empty or truncated frame. After an error
  // the reader stays failed: the stream has lost its framing.
  Expected<std::optional<std::string>> next();

 private:
  std::string pending_;
  std::size_t max_frame_;
  std::size_t scanned_ = 0;  // bytes of pending_ already known to hold no newline
  bool eof_ = false;
  bool overflow_ = false;
  std::optional<Error> failed_;
};

// Blocking helpers for the init side (and tests): read until one frame is complete, retrying
// EINTR. End of stream before a frame is an error naming the pipe.
Expected<std::string> read_frame(int fd, FrameReader& reader);
// Writes all bytes (EINTR retried); uses send(MSG_NOSIGNAL) on sockets so a gone peer is
// EPIPE, not SIGPIPE.
Expected<void> write_all(int fd, std::string_view bytes);

}  // namespace corral::protocol
