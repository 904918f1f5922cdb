#pragma once
// The flag scanner under parse_cli(): Go flag package rules (see cli_args.hpp) over a table of
// flags per command. Each flag knows how to store its value into the command's options struct, so
// the table is both the parser and the source of the usage text.
#include <fmt/format.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apps/corral/flag_values.hpp"
#include "reactor/result.hpp"

namespace corral::cli {

// What usage needs to know about a flag.
struct FlagInfo {
  std::vector<std::string_view> names;  // long name first: {"bundle", "b"}
  std::string_view value_name;          // empty: a boolean flag
  std::string_view help;
};

template <class Options>
struct FlagDef : FlagInfo {
  // Stores the value; returns an empty string or what is wrong with the value.
  std::function<std::string(Options&, const std::string&)> apply;
};

// Where command flags may appear relative to positional arguments.
enum class ArgOrder {
  Interleaved,            // runc reorders flags before arguments for most commands
  StopAtFirstPositional,  // global flags, exec and ps: what follows belongs to someone else
};

template <class Options>
struct ScanResult {
  std::vector<std::string> positional;
  bool help = false;  // -h/--help was given
};

// Scans args against flags; the error message names the flag as it was written.
template <class Options>
Result<ScanResult<Options>, std::string> scan_flags(const std::vector<FlagDef<Options>>& flags,
                                                    std::span<const std::string> args,
                                                    ArgOrder order, Options& options) {
  ScanResult<Options> out;
  bool flags_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg.front() != '-') {
      out.positional.push_back(arg);
      if (order == ArgOrder::StopAtFirstPositional) flags_done = true;
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      // exec and ps keep "--" after their first argument; before it, it only ends the flags.
      continue;
    }
    std::string_view body = arg;
    body.remove_prefix(body.starts_with("--") ? 2 : 1);
    if (body.empty() || body.front() == '-' || body.front() == '=') {
      return fail(fmt::format("bad flag syntax: {}", arg));
    }
    std::string_view name = body;
    std::string inline_value;
    bool has_inline_value = false;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      inline_value = std::string(body.substr(eq + 1));
      has_inline_value = true;
    }
    if (name == "help" || name == "h") {
      out.help = true;
      continue;
    }
    const FlagDef<Options>* def = nullptr;
    for (const auto& candidate : flags) {
      for (std::string_view alias : candidate.names) {
        if (alias == name) def = &candidate;
      }
    }
    const std::string written = arg.substr(0, arg.size() - body.size()) + std::string(name);
    if (def == nullptr) return fail(fmt::format("flag provided but not defined: {}", written));
    std::string value;
    if (!def->value_name.empty()) {
      if (has_inline_value) {
        value = inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return fail(fmt::format("flag needs an argument: {}", written));
      }
    } else {
      auto flag = has_inline_value ? parse_bool_value(inline_value) : ValueOr<bool>(true);
      if (!flag) return fail(fmt::format("{}: {}", written, flag.error()));
      value = *flag ? "true" : "false";
    }
    if (std::string problem = def->apply(options, value); !problem.empty()) {
      return fail(fmt::format("{}: {}", written, problem));
    }
  }
  return out;
}

// Builders for the common kinds of flag.
template <class Options>
FlagDef<Options> bool_flag(std::vector<std::string_view> names, bool Options::*member,
                           std::string_view help) {
  return {{std::move(names), {}, help}, [member](Options& o, const std::string& v) {
            o.*member = v == "true";
            return std::string();
          }};
}

template <class Options>
FlagDef<Options> string_flag(std::vector<std::string_view> names, std::string_view value_name,
                             std::string Options::*member, std::string_view help) {
  return {{std::move(names), value_name, help}, [member](Options& o, const std::string& v) {
            o.*member = v;
            return std::string();
          }};
}

template <class Options>
FlagDef<Options> value_flag(std::vector<std::string_view> names, std::string_view value_name,
                            std::string_view help,
                            std::function<std::string(Options&, const std::string&)> apply) {
  return {{std::move(names), value_name, help}, std::move(apply)};
}

// The flags of Inner, applied to the Inner part of Outer (run reuses create's flags).
template <class Outer, class Inner>
std::vector<FlagDef<Outer>> lift_flags(const std::vector<FlagDef<Inner>>& inner,
                                       Inner Outer::*part) {
  std::vector<FlagDef<Outer>> out;
  for (const auto& def : inner) {
    out.push_back(
        {static_cast<const FlagInfo&>(def),
         [apply = def.apply, part](Outer& o, const std::string& v) { return apply(o.*part, v); }});
  }
  return out;
}

}  // namespace corral::cli
