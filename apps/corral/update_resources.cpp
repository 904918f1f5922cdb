#include "apps/corral/update_resources.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "apps/corral/file_text.hpp"
#include "runtime/spec/config_parser.hpp"

namespace corral::cli {

Resources apply_update_flags(Resources base, const UpdateOptions& o) {
  auto memory = [&]() -> MemoryResources& {
    if (!base.memory) base.memory.emplace();
    return *base.memory;
  };
  auto cpu = [&]() -> CpuResources& {
    if (!base.cpu) base.cpu.emplace();
    return *base.cpu;
  };
  if (o.memory) memory().limit = *o.memory;
  if (o.memory_reservation) memory().reservation = *o.memory_reservation;
  if (o.memory_swap) memory().swap = *o.memory_swap;
  if (o.cpu_shares) cpu().shares = *o.cpu_shares;
  if (o.cpu_quota) cpu().quota = *o.cpu_quota;
  if (o.cpu_period) cpu().period = *o.cpu_period;
  if (!o.cpuset_cpus.empty()) cpu().cpus = o.cpuset_cpus;
  if (!o.cpuset_mems.empty()) cpu().mems = o.cpuset_mems;
  if (o.pids_limit) base.pids = PidsResources{*o.pids_limit};
  return base;
}

Expected<Resources> update_resources(const UpdateOptions& options, std::istream& stdin_stream) {
  Resources base;
  if (!options.resources_file.empty()) {
    const std::string source = fmt::format("update -r {}", options.resources_file);
    auto text = options.resources_file == "-" ? read_stream(stdin_stream, "stdin")
                                              : read_text_file(options.resources_file);
    if (!text) return fail(std::move(text).error().with_context(source));
    auto parsed = parse_resources_json(*text, source);
    if (!parsed) return fail(std::move(parsed).error());
    base = std::move(*parsed);
  }
  return apply_update_flags(std::move(base), options);
}

}  // namespace corral::cli
