#include "apps/corral/state_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace corral::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

// runc's field order, so a diff against runc's output is empty.
ordered_json state_object(const ContainerSummary& c) {
  ordered_json out{
      {"ociVersion", c.oci_version},
      {"id", c.id},
      {"pid", c.pid},
      {"status", c.status},
      {"bundle", c.bundle},
      {"rootfs", c.rootfs},
      {"created", format_rfc3339_nano(c.created)},
      {"owner", c.owner},
  };
  if (!c.annotations.empty()) out["annotations"] = c.annotations;  // omitted when empty
  return out;
}

std::string dump(const ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, ordered_json::error_handler_t::replace);
}

// Go's tabwriter as runc sets it up (minwidth 12, tabwidth 1, padding 3, pad with spaces): each
// column but the last is as wide as its widest cell plus 3, and at least 12.
std::string tabulate(const std::vector<std::array<std::string, 6>>& rows) {
  constexpr std::size_t kMinWidth = 12;
  constexpr std::size_t kPadding = 3;
  std::array<std::size_t, 6> widths{};
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      widths[i] = std::max({widths[i], row[i].size() + kPadding, kMinWidth});
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      out += row[i];
      out.append(widths[i] - row[i].size(), ' ');
    }
    out += row.back();
    out += '\n';
  }
  return out;
}

}  // namespace

std::string format_state_json(const ContainerSummary& container) {
  return dump(state_object(container), 2) + "\n";
}

std::string format_list_table(const std::vector<ContainerSummary>& containers) {
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
  for (const ContainerSummary& c : containers) {
    rows.push_back(
        {c.id, std::to_string(c.pid), c.status, c.bundle, format_rfc3339_nano(c.created), c.owner});
  }
  return tabulate(rows);
}

std::string format_list_json(const std::vector<ContainerSummary>& containers) {
  // runc prints `null` for no containers; an empty array means the same to every JSON reader
  // (Go decodes both into an empty slice) and is what a non-Go reader expects.
  ordered_json list = ordered_json::array();
  for (const ContainerSummary& c : containers) list.push_back(state_object(c));
  return dump(list, -1) + "\n";
}

std::string format_list_ids(const std::vector<ContainerSummary>& containers) {
  std::string out;
  for (const ContainerSummary& c : containers) out += c.id + "\n";
  return out;
}

}  // namespace corral::cli
