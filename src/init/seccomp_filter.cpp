#include "init/seccomp_filter.hpp"

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "init/setup_error.hpp"

namespace corral::init {

namespace {

Expected<uint32_t> to_action(SeccompAction action, std::optional<std::uint32_t> errno_ret) {
  switch (action) {
    case SeccompAction::Kill:
    case SeccompAction::KillThread:
      return SCMP_ACT_KILL_THREAD;
    case SeccompAction::KillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::Trap:
      return SCMP_ACT_TRAP;
    case SeccompAction::Errno:
      return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
    case SeccompAction::Trace:
      return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
    case SeccompAction::Allow:
      return SCMP_ACT_ALLOW;
    case SeccompAction::Log:
      return SCMP_ACT_LOG;
    case SeccompAction::Notify:
      break;
  }
  return fail(setup_failure("seccomp: action SCMP_ACT_NOTIFY is not supported"));
}

scmp_compare to_operator(SeccompOperator op) {
  switch (op) {
    case SeccompOperator::NotEqual:
      return SCMP_CMP_NE;
    case SeccompOperator::LessThan:
      return SCMP_CMP_LT;
    case SeccompOperator::LessEqual:
      return SCMP_CMP_LE;
    case SeccompOperator::EqualTo:
      return SCMP_CMP_EQ;
    case SeccompOperator::GreaterEqual:
      return SCMP_CMP_GE;
    case SeccompOperator::GreaterThan:
      return SCMP_CMP_GT;
    case SeccompOperator::MaskedEqual:
      return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

Error seccomp_error(int rc, const std::string& step) {
  return setup_error(-rc, "seccomp: " + step, "seccomp", {});
}

// "SCMP_ARCH_X86_64" -> "x86_64", the name libseccomp resolves.
std::string arch_name(const std::string& spec_name) {
  std::string name = spec_name.rfind("SCMP_ARCH_", 0) == 0 ? spec_name.substr(10) : spec_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

Expected<void> set_flag(scmp_filter_ctx ctx, const std::string& flag) {
  scmp_filter_attr attr;
  if (flag == "SECCOMP_FILTER_FLAG_LOG")
    attr = SCMP_FLTATR_CTL_LOG;
  else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
    attr = SCMP_FLTATR_CTL_SSB;
  else if (flag == "SECCOMP_FILTER_FLAG_TSYNC")
    attr = SCMP_FLTATR_CTL_TSYNC;
  else
    return fail(setup_failure("seccomp: unsupported flag \"" + flag + "\""));
  if (int rc = seccomp_attr_set(ctx, attr, 1); rc < 0)
    return fail(seccomp_error(rc, "flag " + flag));
  return {};
}

Expected<void> add_rule(scmp_filter_ctx ctx, uint32_t default_action, const SeccompSyscall& call) {
  auto action = to_action(call.action, call.errno_ret);
  if (!action) return fail(std::move(action).error());
  // libseccomp refuses a rule whose action is the default one; it would change nothing.
  if (*action == default_action) return {};
  std::vector<scmp_arg_cmp> conditions;
  bool repeated_index = false;
  for (const auto& arg : call.args) {
    for (const auto& c : conditions) repeated_index |= c.arg == arg.index;
    conditions.push_back({arg.index, to_operator(arg.op), arg.value, arg.value_two});
  }
  for (const auto& name : call.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall of this architecture
    int rc;
    if (!repeated_index) {
      rc = seccomp_rule_add_array(ctx, *action, nr, static_cast<unsigned>(conditions.size()),
                                  conditions.data());
    } else {
      // Conditions on the same argument cannot be ANDed in one libseccomp rule: one rule each
      // (so they OR), as runc does.
      rc = 0;
      for (const auto& c : conditions)
        if (rc >= 0) rc = seccomp_rule_add_array(ctx, *action, nr, 1, &c);
    }
    if (rc < 0) return fail(seccomp_error(rc, "add rule for " + name));
  }
  return {};
}

}  // namespace

Expected<void> load_seccomp(const Seccomp& seccomp) {
  auto default_action = to_action(seccomp.default_action, seccomp.default_errno_ret);
  if (!default_action) return fail(std::move(default_action).error());
  scmp_filter_ctx ctx = seccomp_init(*default_action);
  if (!ctx) return fail(setup_failure("seccomp: cannot create a filter for the default action"));
  auto result = [&]() -> Expected<void> {
    // The spec's noNewPrivileges decides no_new_privs, not libseccomp.
    if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); rc < 0)
      return fail(seccomp_error(rc, "clear the no_new_privs attribute"));
    for (const auto& arch : seccomp.architectures) {
      uint32_t token = seccomp_arch_resolve_name(arch_name(arch).c_str());
      if (token == 0) return fail(setup_failure("seccomp: unknown architecture \"" + arch + "\""));
      int rc = seccomp_arch_add(ctx, token);
      if (rc < 0 && rc != -EEXIST) return fail(seccomp_error(rc, "add architecture " + arch));
    }
    for (const auto& flag : seccomp.flags) {
      auto set = set_flag(ctx, flag);
      if (!set) return set;
    }
    for (const auto& call : seccomp.syscalls) {
      auto added = add_rule(ctx, *default_action, call);
      if (!added) return added;
    }
    if (int rc = seccomp_load(ctx); rc < 0) return fail(seccomp_error(rc, "load the filter"));
    return {};
  }();
  seccomp_release(ctx);
  return result;
}

}  // namespace corral::init
