#include "apps/corral/flag_values.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace corral::cli {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// A decimal number with an optional fraction ("1", "1.5", ".5"); returns the characters used,
// 0 when there is no number at the start of text.
std::size_t scan_decimal(std::string_view text, long double& out) {
  std::size_t i = 0;
  long double whole = 0;
  bool any_digit = false;
  while (i < text.size() && is_digit(text[i])) {
    whole = whole * 10 + (text[i] - '0');
    any_digit = true;
    ++i;
  }
  long double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    std::size_t j = i + 1;
    long double scale = 0.1L;
    while (j < text.size() && is_digit(text[j])) {
      fraction += (text[j] - '0') * scale;
      scale /= 10;
      any_digit = true;
      ++j;
    }
    if (j > i + 1 || any_digit) i = j;
  }
  if (!any_digit) return 0;
  out = whole + fraction;
  return i;
}

}  // namespace

ValueOr<bool> parse_bool_value(std::string_view text) {
  static constexpr std::array<std::string_view, 6> kTrue{"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::array<std::string_view, 6> kFalse{"0", "f", "F", "FALSE", "false", "False"};
  for (std::string_view t : kTrue) {
    if (t == text) return true;
  }
  for (std::string_view f : kFalse) {
    if (f == text) return false;
  }
  return fail(fmt::format("\"{}\" is not a boolean (true or false)", text));
}

ValueOr<std::uint64_t> parse_unsigned_value(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  if (text.empty() || !is_digit(text.front())) {
    return fail(fmt::format("\"{}\" is not an unsigned integer", text));
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc{} && value > max)) {
    return fail(fmt::format("{} is out of range (at most {})", text, max));
  }
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return fail(fmt::format("\"{}\" is not an unsigned integer", text));
  }
  return value;
}

ValueOr<std::int64_t> parse_signed_value(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);  // Go accepts "+5"
  std::int64_t value = 0;
  if (digits.empty() || !(is_digit(digits.front()) || digits.front() == '-')) {
    return fail(fmt::format("\"{}\" is not an integer", text));
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return fail(fmt::format("{} is out of the 64-bit integer range", text));
  }
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return fail(fmt::format("\"{}\" is not an integer", text));
  }
  return value;
}

ValueOr<std::int64_t> parse_memory_size(std::string_view text) {
  if (text == "-1") return std::int64_t{-1};
  long double number = 0;
  std::size_t used = scan_decimal(text, number);
  if (used == 0) {
    return fail(
        fmt::format("\"{}\" is not a size (a number with an optional unit: k, m, g, t, p)", text));
  }
  std::string_view unit = text.substr(used);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  long double multiplier = 1;
  if (!unit.empty()) {
    static constexpr std::string_view kPrefixes = "kmgtp";
    std::size_t power = kPrefixes.find(lower(unit.front()));
    if (power != std::string_view::npos) {
      multiplier = std::pow(1024.0L, static_cast<long double>(power + 1));
      unit.remove_prefix(1);
      if (!unit.empty() && lower(unit.front()) == 'i') unit.remove_prefix(1);
    }
    if (!unit.empty() && lower(unit.front()) == 'b') unit.remove_prefix(1);
    if (!unit.empty()) {
      return fail(fmt::format("\"{}\" is not a size: unknown unit in it", text));
    }
  }
  long double bytes = number * multiplier;
  if (bytes > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    return fail(fmt::format("{} is more bytes than a 64-bit integer holds", text));
  }
  return static_cast<std::int64_t>(bytes);
}

ValueOr<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return std::chrono::nanoseconds(0);
  if (rest.empty()) return fail(fmt::format("\"{}\" is not a duration", text));

  static constexpr std::array<std::pair<std::string_view, long double>, 8> kUnits{{
      {"ns", 1.0L},
      {"us", 1e3L},
      {"\xC2\xB5s", 1e3L},  // U+00B5 micro sign
      {"\xCE\xBCs", 1e3L},  // U+03BC Greek mu
      {"ms", 1e6L},
      {"s", 1e9L},
      {"m", 60e9L},
      {"h", 3600e9L},
  }};
  long double total = 0;
  while (!rest.empty()) {
    long double number = 0;
    std::size_t used = scan_decimal(rest, number);
    if (used == 0) return fail(fmt::format("\"{}\" is not a duration", text));
    rest.remove_prefix(used);
    std::size_t unit_length = 0;
    while (unit_length < rest.size() && rest[unit_length] != '.' && !is_digit(rest[unit_length])) {
      ++unit_length;
    }
    std::string_view unit = rest.substr(0, unit_length);
    if (unit.empty()) {
      return fail(
          fmt::format("\"{}\" is not a duration: missing unit (ns, us, ms, s, m, h)", text));
    }
    bool known = false;
    for (const auto& [name, scale] : kUnits) {
      if (name == unit) {
        total += number * scale;
        known = true;
        break;
      }
    }
    if (!known) {
      return fail(fmt::format("\"{}\" is not a duration: unknown unit \"{}\"", text, unit));
    }
    rest.remove_prefix(unit_length);
  }
  if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    return fail(fmt::format("\"{}\" is too long a duration", text));
  }
  auto ns = static_cast<std::int64_t>(total);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

ValueOr<UserSpec> parse_user_spec(std::string_view text) {
  constexpr std::uint64_t kMaxId = UINT32_MAX;
  std::string_view uid_text = text;
  std::string_view gid_text;
  bool has_gid = false;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    uid_text = text.substr(0, colon);
    gid_text = text.substr(colon + 1);
    has_gid = true;
  }
  UserSpec user;
  auto uid = parse_unsigned_value(uid_text, kMaxId);
  if (!uid) {
    return fail(
        fmt::format("user \"{}\": uid {} (expected uid[:gid], numeric)", text, uid.error()));
  }
  user.uid = static_cast<std::uint32_t>(*uid);
  if (has_gid) {
    auto gid = parse_unsigned_value(gid_text, kMaxId);
    if (!gid) {
      return fail(
          fmt::format("user \"{}\": gid {} (expected uid[:gid], numeric)", text, gid.error()));
    }
    user.gid = static_cast<std::uint32_t>(*gid);
  }
  return user;
}

}  // namespace corral::cli
