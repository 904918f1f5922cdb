#pragma once
// The six scenarios of issue 7. Each reads its definition (sizes, repetitions) from the
// scenario file, runs every peer it applies to in the same run, interleaved (each repetition
// visits every peer, in an order rotated per repetition), and adds rows to the results.
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/corral-bench/hold_models.hpp"
#include "apps/corral-bench/peers.hpp"
#include "apps/corral-bench/results.hpp"

namespace corral::bench {

using PeerList = std::vector<Peer*>;

void run_lifecycle(const nlohmann::json& def, const PeerList& peers, Results& results);
void run_storm(const nlohmann::json& def, const PeerList& peers, Results& results);
// Hold and exit storm share their containers: each hold ends in the exit storm.
void run_hold_and_exit(const nlohmann::json& def,
                       const std::vector<std::unique_ptr<HoldModel>>& models, Results& results);
void run_state_io(const nlohmann::json& def, Results& results);
void run_footprint(const nlohmann::json& def, const PeerList& peers, Results& results);

// The peers visited in repetition `rep`: all of them, rotated by rep.
template <class T>
std::vector<T> rotated(const std::vector<T>& items, int rep) {
  std::vector<T> out;
  for (std::size_t i = 0; i < items.size(); ++i) out.push_back(items[(i + rep) % items.size()]);
  return out;
}

}  // namespace corral::bench
