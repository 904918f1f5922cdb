#pragma once
// The spec's names for the enumerations of config.hpp ("network", "SCMP_ACT_ERRNO",
// "SCMP_CMP_EQ"), both ways, for the parser and for messages.
#include <optional>
#include <span>
#include <string_view>

#include "runtime/spec/config.hpp"

namespace corral {

std::string_view to_string(NamespaceType type);
std::optional<NamespaceType> parse_namespace_type(std::string_view name);

std::string_view to_string(SeccompAction action);
std::optional<SeccompAction> parse_seccomp_action(std::string_view name);

std::string_view to_string(SeccompOperator op);
std::optional<SeccompOperator> parse_seccomp_operator(std::string_view name);

// RLIMIT_* names of setrlimit(2), "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
std::optional<int> parse_rlimit_name(std::string_view name);

// Whether libseccomp knows the architecture name ("SCMP_ARCH_X86_64").
bool is_known_seccomp_architecture(std::string_view name);
// Whether the name is a seccomp filter flag corral can pass on ("SECCOMP_FILTER_FLAG_LOG").
bool is_known_seccomp_flag(std::string_view name);
// The lists behind the two checks above (what `corral features` advertises).
std::span<const std::string_view> known_seccomp_architectures();
std::span<const std::string_view> known_seccomp_flags();

}  // namespace corral
