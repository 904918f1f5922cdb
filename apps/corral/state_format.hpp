#pragma once
// What `corral state` and `corral list` print, as runc prints it, from a plain description of a
// container so that the lifecycle library plugs in by filling ContainerSummary.
//
// state: the OCI state plus runc's extras, indented JSON:
//   {"ociVersion","id","pid","status","bundle","rootfs","created","owner","annotations"?}
// list: a table with runc's columns, padded like Go's tabwriter (min width 12, padding 3):
//   ID   PID   STATUS   BUNDLE   CREATED   OWNER
// or (--format json) a JSON array of the same objects as state.
#include <map>
#include <string>
#include <vector>

#include "apps/corral/time_format.hpp"

namespace corral::cli {

struct ContainerSummary {
  std::string oci_version;  // the config's ociVersion
  std::string id;
  int pid = 0;         // the init's pid; 0 once stopped
  std::string status;  // "creating", "created", "running", "paused", "stopped"
  std::string bundle;
  std::string rootfs;
  SystemTime created{};
  std::string owner;  // user name of the state directory's owner ("#UID" when it has none)
  std::map<std::string, std::string> annotations;
};

std::string format_state_json(const ContainerSummary& container);

std::string format_list_table(const std::vector<ContainerSummary>& containers);
std::string format_list_json(const std::vector<ContainerSummary>& containers);
// --quiet: one id per line.
std::string format_list_ids(const std::vector<ContainerSummary>& containers);

}  // namespace corral::cli
