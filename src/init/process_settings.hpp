#pragma once
// Per-process settings applied by both init types: hostname, sysctls, rlimits, oom_score_adj,
// signals, user and groups, capabilities, no_new_privs, umask.
#include "runtime/spec/config.hpp"
#include "runtime/spec/error.hpp"

namespace corral::init {

Expected<void> set_hostname_and_domainname(const Config& config);
Expected<void> apply_sysctls(const Config& config);  // writes /proc/sys/<key with '/' for '.'>
Expected<void> apply_rlimits(const Process& process);
Expected<void> apply_oom_score_adj(const Process& process);

// Empty signal mask and every disposition back to SIG_DFL: the container's program must not
// inherit what the runtime blocked or ignored.
void reset_signals();

// Drops every capability not in process.capabilities.bounding (needs CAP_SETPCAP: call before
// switching user).
Expected<void> drop_bounding_set(const Capabilities& caps);
// setgroups(additional gids), setgid, setuid. Keeps the permitted capabilities across setuid
// (PR_SET_KEEPCAPS) so that apply_capabilities can then set them.
Expected<void> switch_user(const User& user, bool in_user_ns);
// Effective/permitted/inheritable exactly as configured, then the ambient set.
Expected<void> apply_capabilities(const Capabilities& caps);

Expected<void> set_no_new_privileges();

}  // namespace corral::init
