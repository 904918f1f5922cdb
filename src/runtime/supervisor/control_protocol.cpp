#include "runtime/supervisor/control_protocol.hpp"

#include <signal.h>
#include <string.h>

#include <array>
#include <charconv>
#include <set>
#include <utility>

namespace corral::supervisor {
namespace {

constexpr std::array<std::pair<Verb, std::string_view>, 12> kVerbs{{
    {Verb::Create, "create"},
    {Verb::Start, "start"},
    {Verb::Run, "run"},
    {Verb::Kill, "kill"},
    {Verb::Delete, "delete"},
    {Verb::State, "state"},
    {Verb::List, "list"},
    {Verb::Wait, "wait"},
    {Verb::Events, "events"},
    {Verb::Logs, "logs"},
    {Verb::Stats, "stats"},
    {Verb::Shutdown, "shutdown"},
}};

// The fields each verb accepts besides "verb" and "tag"; anything else is refused, so that a
// misspelt option never silently does the default.
std::set<std::string_view> allowed_fields(Verb verb) {
  switch (verb) {
    case Verb::Create:
    case Verb::Run:
      return {"id", "bundle", "restart"};
    case Verb::Kill:
      return {"id", "signal", "all"};
    case Verb::Delete:
      return {"id", "force"};
    case Verb::Logs:
      return {"id", "follow"};
    case Verb::Stats:
      return {"id"};
    case Verb::Shutdown:
      return {"stop_containers"};
    case Verb::List:
    case Verb::Events:
      return {};
    case Verb::Start:
    case Verb::State:
    case Verb::Wait:
      return {"id"};
  }
  return {};
}

bool needs_id(Verb verb) {
  return verb != Verb::List && verb != Verb::Events && verb != Verb::Shutdown &&
         verb != Verb::Stats;
}

ProtocolError bad(std::string message) {
  return ProtocolError{"BadRequest", std::move(message)};
}

}  // namespace

std::string_view to_string(Verb verb) {
  for (const auto& [v, name] : kVerbs)
    if (v == verb) return name;
  return "unknown";
}

int parse_signal_value(const nlohmann::json& value) {
  if (value.is_number_integer()) {
    auto n = value.get<long long>();
    return n >= 1 && n <= 64 ? static_cast<int>(n) : 0;
  }
  if (!value.is_string()) return 0;
  std::string text = value.get<std::string>();
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc{} && end == text.data() + text.size())
    return number >= 1 && number <= 64 ? number : 0;
  if (text.rfind("SIG", 0) == 0) text = text.substr(3);
  for (int sig = 1; sig < 32; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev != nullptr && text == abbrev) return sig;
  }
  return 0;
}

Result<Request, ProtocolError> parse_request(std::string_view line) {
  if (line.size() > kMaxRequestLine)
    return fail(ProtocolError{"TooLarge", "request of " + std::to_string(line.size()) +
                                              " bytes exceeds the limit of " +
                                              std::to_string(kMaxRequestLine)});
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(bad("request is not valid JSON"));
  if (!j.is_object()) return fail(bad("request must be a JSON object"));
  Request request;
  if (auto tag = j.find("tag"); tag != j.end()) request.tag = *tag;
  auto verb_field = j.find("verb");
  if (verb_field == j.end() || !verb_field->is_string())
    return fail(bad("field \"verb\" is missing or not a string"));
  std::string verb = verb_field->get<std::string>();
  bool known = false;
  for (const auto& [v, name] : kVerbs)
    if (name == verb) {
      request.verb = v;
      known = true;
    }
  if (!known) return fail(ProtocolError{"UnknownVerb", "unknown verb \"" + verb + "\""});

  auto allowed = allowed_fields(request.verb);
  for (const auto& [key, value] : j.items()) {
    if (key == "verb" || key == "tag") continue;
    if (!allowed.count(key)) return fail(bad(verb + ": unknown field \"" + key + "\""));
  }
  auto string_field = [&](const char* name, std::string& out) -> Result<void, ProtocolError> {
    auto it = j.find(name);
    if (it == j.end()) return {};
    if (!it->is_string()) return fail(bad(verb + ": field \"" + name + "\" must be a string"));
    out = it->get<std::string>();
    return {};
  };
  auto bool_field = [&](const char* name, bool& out) -> Result<void, ProtocolError> {
    auto it = j.find(name);
    if (it == j.end()) return {};
    if (!it->is_boolean()) return fail(bad(verb + ": field \"" + name + "\" must be a boolean"));
    out = it->get<bool>();
    return {};
  };
  for (auto result : {string_field("id", request.id), string_field("bundle", request.bundle),
                      bool_field("all", request.all), bool_field("force", request.force),
                      bool_field("follow", request.follow),
                      bool_field("stop_containers", request.stop_containers)})
    if (!result) return fail(std::move(result).error());

  if (needs_id(request.verb) && request.id.empty())
    return fail(bad(verb + ": field \"id\" is required"));
  if (request.verb == Verb::Create || request.verb == Verb::Run) {
    if (request.bundle.empty() || request.bundle[0] != '/')
      return fail(bad(verb + ": field \"bundle\" must be an absolute path"));
    std::string restart = "no";
    if (auto r = string_field("restart", restart); !r) return fail(std::move(r).error());
    auto policy = RestartPolicy::parse(restart);
    if (!policy) return fail(bad(verb + ": field \"restart\": " + policy.error().message()));
    request.restart = *policy;
  }
  if (request.verb == Verb::Kill) {
    if (auto it = j.find("signal"); it != j.end()) {
      request.signal = parse_signal_value(*it);
      if (request.signal == 0)
        return fail(bad("kill: field \"signal\": " + it->dump() + " is not a signal"));
    }
  }
  return request;
}

std::string ok_line(const nlohmann::json& tag, nlohmann::json body) {
  body["ok"] = true;
  if (!tag.is_null()) body["tag"] = tag;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string error_line(const nlohmann::json& tag, std::string_view code, std::string_view message) {
  nlohmann::json body{{"ok", false},
                      {"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
  if (!tag.is_null()) body["tag"] = tag;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace corral::supervisor
