#pragma once
// Signal names for `corral kill ID [SIGNAL]`, read as runc reads them: a number ("9"), or a name
// in any case with or without the SIG prefix ("KILL", "sigkill", "SIGKILL"), including the
// real-time forms RTMIN, RTMIN+N and RTMAX-N.
#include <string>
#include <string_view>

#include "reactor/result.hpp"

namespace corral::cli {

// The signal number, or the message `unknown signal "FOO"`.
Result<int, std::string> parse_signal(std::string_view text);

// "SIGKILL" for 9; "SIGRTMIN+3"; "signal N" for a number without a name.
std::string signal_name(int signal);

}  // namespace corral::cli
