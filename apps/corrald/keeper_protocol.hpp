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
#include <cstddef>

namespace corrald {

inline constexpr std::size_t kKeeperMessageMax = 8192;
inline constexpr const char* kKeeperFdFlag = "--keeper-fd";

}  // namespace corrald
