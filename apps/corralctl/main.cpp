// corralctl: talks to corrald over its control socket (docs/protocol.md).
//
//   corralctl [--socket PATH] create|run ID BUNDLE [--restart POLICY]
//   corralctl [--socket PATH] start|state|wait|stats|delete|kill|logs ID [...]
//   corralctl [--socket PATH] list | events | stats | shutdown [--stop-containers]
//   corralctl [--socket PATH] raw 'JSON'
//
// Prints each response as one JSON line (logs: the CRI lines themselves). Exit status: 0 on
// success, 1 on an error response, 2 on a usage or connection error; `wait` exits with the
// container's status as a shell reports it (128 + N for signal N) when it is known.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "corralctl: %s\n"
               "usage: corralctl [--socket PATH] VERB ...\n"
               "  create|run ID BUNDLE [--restart no|on-failure[:N]|always|unless-stopped]\n"
               "  start|state|wait ID    kill ID [SIGNAL] [--all]    delete ID [--force]\n"
               "  logs ID [--follow]     stats [ID]    list    events\n"
               "  shutdown [--stop-containers]    raw JSON\n",
               why.c_str());
  std::exit(2);
}

int connect_to(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) usage("socket path too long: " + path);
  path.copy(address.sun_path, path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    std::fprintf(stderr, "corralctl: connect %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(2);
  }
  return fd;
}

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  bool next(std::string& line) {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = "/run/corrald/corrald.sock";
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--socket") {
      if (++i >= argc) usage("missing value after --socket");
      socket_path = argv[i];
    } else {
      args.push_back(arg);
    }
  }
  if (args.empty()) usage("missing verb");
  std::string verb = args[0];
  nlohmann::json request{{"verb", verb}};
  std::vector<std::string> positional;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--restart") {
      if (++i >= args.size()) usage("missing value after --restart");
      request["restart"] = args[i];
    } else if (a == "--all") {
      request["all"] = true;
    } else if (a == "--force") {
      request["force"] = true;
    } else if (a == "--follow" || a == "-f") {
      request["follow"] = true;
    } else if (a == "--stop-containers") {
      request["stop_containers"] = true;
    } else {
      positional.push_back(a);
    }
  }
  std::string line;
  if (verb == "raw") {
    if (positional.size() != 1) usage("raw takes one JSON argument");
    line = positional[0];
  } else {
    auto need = [&](std::size_t min, std::size_t max) {
      if (positional.size() < min || positional.size() > max)
        usage(verb + ": wrong number of arguments");
    };
    if (verb == "create" || verb == "run") {
      need(2, 2);
      request["bundle"] = positional[1];
    } else if (verb == "kill") {
      need(1, 2);
      if (positional.size() == 2) request["signal"] = positional[1];
    } else if (verb == "stats") {
      need(0, 1);
    } else if (verb == "list" || verb == "events" || verb == "shutdown") {
      need(0, 0);
    } else {
      need(1, 1);
    }
    if (!positional.empty()) request["id"] = positional[0];
    line = request.dump();
  }
  int fd = connect_to(socket_path);
  line += '\n';
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      std::fprintf(stderr, "corralctl: send: %s\n", std::strerror(errno));
      return 2;
    }
    sent += static_cast<std::size_t>(n);
  }
  LineReader reader(fd);
  std::string response;
  while (reader.next(response)) {
    auto j = nlohmann::json::parse(response, nullptr, false);
    if (j.is_discarded()) {
      std::fprintf(stderr, "corralctl: malformed response: %s\n", response.c_str());
      return 2;
    }
    if (j.contains("log")) {
      std::cout << j["log"].get<std::string>() << '\n' << std::flush;
      continue;
    }
    std::cout << response << '\n' << std::flush;
    if (j.contains("event")) continue;
    if (!j.contains("ok")) continue;
    if (!j["ok"].get<bool>()) return 1;
    // Streams go on after their first answer.
    if (verb == "events" || (verb == "logs" && request.value("follow", false))) continue;
    if (verb == "wait" && j.contains("exit") && j["exit"].value("known", false))
      return j["exit"].value("shell_status", 0);
    return 0;
  }
  return verb == "events" || verb == "logs" ? 0 : 2;
}
