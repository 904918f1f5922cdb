#pragma once
// The figures of one corral-bench run: one row per (scenario, peer, N) with named metrics, the
// peers skipped and why, and what the run was (command, machine). Written as JSON, printed as
// a table of medians with ratios to corral.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::bench {

struct Row {
  std::string scenario;
  std::string peer;
  int n = 0;                       // containers (or files), 0 when the scenario has no size
  nlohmann::ordered_json metrics;  // name -> number, in display order
  std::string note;
};

struct Skip {
  std::string scenario, peer, reason;
};

// How a scenario's table is read: which metric the ratio column divides, and by which peer.
struct RatioRule {
  std::string scenario, metric, reference_peer;
};

class Results {
 public:
  void add(Row row) { rows_.push_back(std::move(row)); }
  void skip(Skip s) { skipped_.push_back(std::move(s)); }
  void set_meta(nlohmann::ordered_json meta) { meta_ = std::move(meta); }
  void add_rule(RatioRule rule) { rules_.push_back(std::move(rule)); }

  const std::vector<Row>& rows() const { return rows_; }
  nlohmann::ordered_json to_json() const;
  void print_tables(std::FILE* out) const;

 private:
  const RatioRule* rule_for(const std::string& scenario) const;
  std::vector<Row> rows_;
  std::vector<Skip> skipped_;
  std::vector<RatioRule> rules_;
  nlohmann::ordered_json meta_;
};

}  // namespace corral::bench
