#include "apps/corral-bench/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace corral::bench {

const RatioRule* Results::rule_for(const std::string& scenario) const {
  for (const RatioRule& r : rules_)
    if (r.scenario == scenario) return &r;
  return nullptr;
}

nlohmann::ordered_json Results::to_json() const {
  nlohmann::ordered_json out;
  out["meta"] = meta_;
  nlohmann::ordered_json scenarios = nlohmann::ordered_json::object();
  for (const Row& row : rows_) {
    nlohmann::ordered_json entry;
    entry["peer"] = row.peer;
    if (row.n) entry["n"] = row.n;
    entry["metrics"] = row.metrics;
    if (const RatioRule* rule = rule_for(row.scenario)) {
      for (const Row& ref : rows_) {
        if (ref.scenario == row.scenario && ref.peer == rule->reference_peer && ref.n == row.n &&
            ref.metrics.contains(rule->metric) && row.metrics.contains(rule->metric) &&
            ref.metrics[rule->metric].get<double>() != 0) {
          entry["ratio_to_" + rule->reference_peer] =
              row.metrics[rule->metric].get<double>() / ref.metrics[rule->metric].get<double>();
        }
      }
    }
    if (!row.note.empty()) entry["note"] = row.note;
    scenarios[row.scenario].push_back(entry);
  }
  out["scenarios"] = scenarios;
  out["skipped"] = nlohmann::ordered_json::array();
  for (const Skip& s : skipped_)
    out["skipped"].push_back({{"scenario", s.scenario}, {"peer", s.peer}, {"reason", s.reason}});
  return out;
}

void Results::print_tables(std::FILE* out) const {
  std::vector<std::string> order;
  for (const Row& row : rows_)
    if (std::find(order.begin(), order.end(), row.scenario) == order.end())
      order.push_back(row.scenario);
  auto json = to_json();
  for (const std::string& scenario : order) {
    std::vector<std::string> columns;
    for (const Row& row : rows_) {
      if (row.scenario != scenario) continue;
      for (auto& [name, value] : row.metrics.items())
        if (std::find(columns.begin(), columns.end(), name) == columns.end())
          columns.push_back(name);
    }
    const RatioRule* rule = rule_for(scenario);
    fmt::print(out, "\n== {} ==\n", scenario);
    std::string header = fmt::format("{:<16} {:>6}", "peer", "N");
    for (const std::string& c : columns) header += fmt::format(" {:>14}", c);
    if (rule)
      header += fmt::format("  {}", "÷ " + rule->reference_peer + " (" + rule->metric + ")");
    fmt::print(out, "{}\n", header);
    for (const auto& entry : json["scenarios"][scenario]) {
      std::string line =
          fmt::format("{:<16} {:>6}", entry["peer"].get<std::string>(),
                      entry.contains("n") ? std::to_string(entry["n"].get<int>()) : "-");
      for (const std::string& c : columns) {
        if (entry["metrics"].contains(c))
          line += fmt::format(" {:>14.4g}", entry["metrics"][c].get<double>());
        else
          line += fmt::format(" {:>14}", "-");
      }
      if (rule && entry.contains("ratio_to_" + rule->reference_peer))
        line += fmt::format("  {:.2f}", entry["ratio_to_" + rule->reference_peer].get<double>());
      fmt::print(out, "{}\n", line);
    }
  }
  if (!skipped_.empty()) {
    fmt::print(out, "\nskipped:\n");
    for (const Skip& s : skipped_) fmt::print(out, "  {} / {}: {}\n", s.scenario, s.peer, s.reason);
  }
}

}  // namespace corral::bench
