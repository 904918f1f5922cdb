#pragma once
// A private corrald for the benchmark: started from the build's binary with its own --root and
// --socket under the run's work directory, driven over its control socket, and stopped with
// nothing left behind (its containers deleted, its root removed).
//
// corrald may be one process or a keeper ("corrald-keeper") running the daemon as its child:
// its supervision cost is every process of the tree rooted at the pid started here that is not
// a container (nor inside one).
#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "apps/corral-bench/daemon_client.hpp"

namespace corral::bench {

class CorraldProcess {
 public:
  // Starts `binary` with state under DIR = work_dir/corrald-<label> and waits until its socket
  // answers. Throws std::runtime_error with corrald's own words (its stderr) on failure.
  CorraldProcess(const std::string& binary, const std::string& init_path,
                 const std::string& work_dir, const std::string& label);
  // stop(), errors ignored.
  ~CorraldProcess();
  CorraldProcess(const CorraldProcess&) = delete;
  CorraldProcess& operator=(const CorraldProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The processes of corrald's tree once it served, before any container: the daemon (and its
  // keeper). Read cheaply again and again, unlike a walk of /proc.
  const std::vector<pid_t>& daemon_pids() const { return daemon_pids_; }
  const std::string& socket_path() const { return socket_; }
  DaemonConnection connect() const { return DaemonConnection(socket_); }

  // Container id -> init pid, of the containers whose init is alive (`list`).
  std::vector<std::pair<std::string, pid_t>> running_inits();
  // The supervision processes: the tree rooted at pid() minus the containers' subtrees.
  std::vector<pid_t> supervision_pids();

  // Deletes every container left (force), asks the daemon to shut down, waits for the whole
  // tree to exit (SIGTERM, then SIGKILL, if it does not) and removes its directory. Returns ""
  // or what went wrong; idempotent.
  std::string stop();

  // The daemon's stderr so far (for an error message).
  std::string log_tail() const;

 private:
  std::string dir_, socket_, log_;
  pid_t pid_ = -1;
  std::vector<pid_t> daemon_pids_;
};

}  // namespace corral::bench
