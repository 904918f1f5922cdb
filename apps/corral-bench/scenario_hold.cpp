// Scenarios 3 and 4: hold N long-running containers under each supervision model, measure the
// model's monitor processes (PSS/RSS and descriptors per container, CPU over an idle window),
// then SIGKILL all N at once and time until every exit has been observed (and, for corral,
// recorded in state.json).
#include "apps/corral-bench/measure.hpp"
#include "apps/corral-bench/progress.hpp"
#include "apps/corral-bench/scenarios.hpp"

namespace corral::bench {

void run_hold_and_exit(const nlohmann::json& def,
                       const std::vector<std::unique_ptr<HoldModel>>& all, Results& results) {
  const std::vector<int> sizes = def.value("sizes", std::vector<int>{100, 1000});
  const int concurrency = def.value("concurrency", 8);
  const int cap = def.value("external_cap", 1000);
  const double idle_s = def.value("idle_seconds", 10.0);
  std::vector<HoldModel*> models;
  for (const auto& m : all) {
    if (auto why = m->unavailable()) {
      results.skip({"hold", m->name(), *why});
      results.skip({"exit_storm", m->name(), *why});
    } else {
      models.push_back(m.get());
    }
  }
  int steps = 0;
  for (int n : sizes)
    for (HoldModel* m : models)
      if (!m->external() || n <= cap) ++steps;
  Progress progress("hold+exit", steps);
  int rep = 0;
  for (int n : sizes) {
    for (HoldModel* model : rotated(models, rep++)) {
      if (model->external() && n > cap) continue;
      std::string error;
      auto sample = model->run(n, concurrency, idle_s, error);
      progress.step(model->name() + " N=" + std::to_string(n));
      if (!sample || sample->held == 0) {
        results.skip({"hold", model->name() + " N=" + std::to_string(n), error});
        continue;
      }
      const double held = sample->held;
      Row hold{"hold", model->name(), n, {}, {}};
      hold.metrics["held"] = sample->held;
      hold.metrics["monitors"] = sample->monitors;
      hold.metrics["pss_kib_per_ctr"] = sample->pss_kib / held;
      hold.metrics["rss_kib_per_ctr"] = sample->rss_kib / held;
      hold.metrics["fds_per_ctr"] = sample->descriptors / held;
      hold.metrics["idle_cpu_ms"] = sample->idle_cpu_s * 1e3;
      hold.metrics["idle_window_s"] = idle_s;
      hold.metrics["setup_s"] = sample->setup_s;
      if (sample->mount_namespaces >= 0) hold.metrics["mnt_ns"] = sample->mount_namespaces;
      if (sample->held < n || !error.empty())
        hold.note = std::to_string(sample->held) + " of " + std::to_string(n) + " held" +
                    (error.empty() ? "" : ": " + error);
      results.add(std::move(hold));
      Row exits{"exit_storm", model->name(), n, {}, {}};
      exits.metrics["seen"] = sample->exits_seen;
      exits.metrics["all_exits_ms"] = quantile(sample->exit_after_s, 1.0) * 1e3;
      exits.metrics["notify_p50_ms"] = quantile(sample->exit_after_s, 0.5) * 1e3;
      exits.metrics["notify_p90_ms"] = quantile(sample->exit_after_s, 0.9) * 1e3;
      exits.metrics["notify_p99_ms"] = quantile(sample->exit_after_s, 0.99) * 1e3;
      if (sample->exits_seen < sample->held)
        exits.note = std::to_string(sample->held - sample->exits_seen) + " exits not observed";
      results.add(std::move(exits));
    }
  }
}

}  // namespace corral::bench
