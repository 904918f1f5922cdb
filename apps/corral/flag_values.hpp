#pragma once
// Converting command-line flag values, with Go's rules where runc relies on them. Each parser
// returns the value or a message saying what is wrong with the text; the caller adds the flag.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/corral/cli_args.hpp"
#include "reactor/result.hpp"

namespace corral::cli {

template <class T>
using ValueOr = Result<T, std::string>;

// Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
ValueOr<bool> parse_bool_value(std::string_view text);

// Decimal only; refuses signs on unsigned values, empty text, trailing garbage and overflow.
ValueOr<std::uint64_t> parse_unsigned_value(std::string_view text, std::uint64_t max = UINT64_MAX);
ValueOr<std::int64_t> parse_signed_value(std::string_view text);

// A byte size as docker's units.RAMInBytes reads it ("512m", "1.5G", "64KiB", "1024"); the
// suffixes are binary (k = 1024). "-1" means unlimited and is returned as -1.
ValueOr<std::int64_t> parse_memory_size(std::string_view text);

// Go's time.ParseDuration: "5s", "1m30s", "250ms", "1.5h", "0"; units ns us µs ms s m h.
ValueOr<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// exec's --user: "uid" or "uid:gid", numeric (the container's /etc/passwd is not consulted).
ValueOr<UserSpec> parse_user_spec(std::string_view text);

}  // namespace corral::cli
