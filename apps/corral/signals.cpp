#include "apps/corral/signals.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <csignal>
#include <utility>

namespace corral::cli {
namespace {

// Without the SIG prefix; the first name of a number is the one signal_name() reports.
constexpr std::array<std::pair<std::string_view, int>, 34> kSignals{{
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
}};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool parse_small_number(std::string_view text, int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out >= 0;
}

// "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2", within SIGRTMIN..SIGRTMAX (SIGRTMIN is a function in
// glibc: it reserves the first real-time signals for itself).
bool parse_realtime(std::string_view name, int& out) {
  const int low = SIGRTMIN;
  const int high = SIGRTMAX;
  int offset = 0;
  if (name.starts_with("RTMIN")) {
    std::string_view rest = name.substr(5);
    if (!rest.empty() && (rest.front() != '+' || !parse_small_number(rest.substr(1), offset))) {
      return false;
    }
    out = low + offset;
  } else if (name.starts_with("RTMAX")) {
    std::string_view rest = name.substr(5);
    if (!rest.empty() && (rest.front() != '-' || !parse_small_number(rest.substr(1), offset))) {
      return false;
    }
    out = high - offset;
  } else {
    return false;
  }
  return out >= low && out <= high;
}

}  // namespace

Result<int, std::string> parse_signal(std::string_view text) {
  auto unknown = [&] { return fail(fmt::format("unknown signal \"{}\"", text)); };
  if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    int number = 0;
    // 0 only probes for existence; kill is for delivering a signal, so it is refused.
    if (!parse_small_number(text, number) || number < 1 || number > SIGRTMAX) return unknown();
    return number;
  }
  std::string name = upper(text);
  std::string_view bare = name;
  if (bare.starts_with("SIG")) bare.remove_prefix(3);
  for (const auto& [known, number] : kSignals) {
    if (known == bare) return number;
  }
  int realtime = 0;
  if (parse_realtime(bare, realtime)) return realtime;
  return unknown();
}

std::string signal_name(int signal) {
  for (const auto& [known, number] : kSignals) {
    if (number == signal) return fmt::format("SIG{}", known);
  }
  if (signal >= SIGRTMIN && signal <= SIGRTMAX) {
    return signal == SIGRTMIN ? "SIGRTMIN" : fmt::format("SIGRTMIN+{}", signal - SIGRTMIN);
  }
  return fmt::format("signal {}", signal);
}

}  // namespace corral::cli
