#pragma once
// corrald <-> keeper: one SOCK_SEQPACKET socketpair, made by the keeper when it starts corrald
// (corrald finds its end at the descriptor named by --keeper-fd). Each message is one JSON
// object in one packet of at most kKeeperMessageMax bytes:
//
//   corrald -> keeper  {"op":"capture","id":ID,"path":LOG,"max_bytes":N,"keep":K,"max_line":L}
//                      + SCM_RIGHTS [stdout read end, stderr read end]
//                      the keeper reads both pipes into the CRI log file LOG from now on
//   corrald -> keeper  {"op":"ack","seq":S}      exit record S is in state.json: drop it
//   keeper -> corrald  {"op":"exit","seq":S,"pid":P,"start_time":T,"code":C,"status":X,
//                       "time_ns":N}             an init the keeper reaped (see ReapedExit)
//   keeper -> corrald  {"op":"ready"}            every record pending at corrald's start was sent
//
// A malformed message is reported and dropped by either side; the link stays up.
//
// front <-> keeper: the process a user starts as `corrald` is a front. It connects to the
// keeper's SOCK_SEQPACKET socket ROOT/keeper/sock (mode 0600, peers checked with
// SO_PEERCRED), starting a keeper first when none holds ROOT/keeper/lock, and asks it to run
// corrald proper; the front then lives as long as that corrald does.
//
//   front -> keeper    {"op":"serve","exe":PATH,"argv":[...],"env":[...],"cwd":DIR,
//                       "respawn_delay_ms":N} + SCM_RIGHTS [stdin, stdout, stderr]
//                      corrald proper is started so, with these three descriptors
//   keeper -> front    {"op":"serving","pid":P}   or   {"op":"refused","error":TEXT}
//                      or {"op":"busy","error":TEXT}: the last corrald is still stopping (retry)
//   front -> keeper    {"op":"signal","signal":N}  SIGTERM/SIGINT/SIGHUP the front received
//                                                  (corrald gets SIGTERM for a SIGHUP)
//   keeper -> front    {"op":"ended","status":S}   corrald ended for good; S is the front's
//                                                  exit status (128 + the signal if killed)
//
// The front's end closing while corrald runs is a SIGTERM to corrald. The keeper outlives the
// front and corrald while containers it adopted live, and ends when none is left (a front that
// comes as it ends gets "busy", or finds no socket, and tries again).
#include <cstddef>
#include <string>

namespace corrald {

inline constexpr std::size_t kKeeperMessageMax = 8192;
// A front's serve request carries its environment: larger, and rare.
inline constexpr std::size_t kFrontMessageMax = 64 * 1024;
inline constexpr const char* kKeeperFdFlag = "--keeper-fd";
// Internal: the process is the keeper; fd 3 is its listening socket, fd 4 holds its lock.
inline constexpr const char* kAsKeeperFlag = "--as-keeper";
inline constexpr int kKeeperListenFd = 3;
inline constexpr int kKeeperLockFd = 4;

inline std::string keeper_dir(const std::string& root) {
  return root + "/keeper";
}
inline std::string keeper_socket_path(const std::string& root) {
  return keeper_dir(root) + "/sock";
}
inline std::string keeper_lock_path(const std::string& root) {
  return keeper_dir(root) + "/lock";
}

}  // namespace corrald
