#include "apps/corral-bench/corrald_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "apps/corral-bench/commands.hpp"
#include "apps/corral-bench/measure.hpp"

namespace corral::bench {

namespace {

namespace fs = std::filesystem;

// True once `pid` (our child) has exited; reaps it.
bool exited(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

bool wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (exited(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exited(pid);
}

}  // namespace

CorraldProcess::CorraldProcess(const std::string& binary, const std::string& init_path,
                               const std::string& work_dir, const std::string& label)
    : dir_(work_dir + "/corrald-" + label),
      socket_(dir_ + "/control.sock"),
      log_(dir_ + "/corrald.log") {
  fs::create_directories(dir_);
  std::vector<std::string> argv{binary, "--root", dir_ + "/root", "--socket", socket_};
  if (!init_path.empty()) argv.insert(argv.end(), {"--init", init_path});
  pid_ = start_command(argv, log_);
  if (pid_ < 0) throw std::runtime_error("cannot start " + join(argv));
  // Ready when the socket accepts a connection and answers.
  auto until = Clock::now() + std::chrono::seconds(20);
  std::string last_error;
  while (Clock::now() < until) {
    if (exited(pid_)) {
      pid_ = -1;
      throw std::runtime_error(join(argv) + " exited before serving: " + log_tail());
    }
    try {
      auto answer = connect().request({{"verb", "list"}});
      if (response_error(answer).empty()) {
        daemon_pids_ = process_tree(pid_);
        return;
      }
      last_error = response_error(answer);
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string why = join(argv) + " did not serve within 20 s (" + last_error + "): " + log_tail();
  stop();
  throw std::runtime_error(why);
}

CorraldProcess::~CorraldProcess() {
  stop();
}

std::vector<std::pair<std::string, pid_t>> CorraldProcess::running_inits() {
  auto answer = connect().request({{"verb", "list"}});
  if (auto error = response_error(answer); !error.empty())
    throw std::runtime_error("corrald at " + socket_ + ": list: " + error);
  std::vector<std::pair<std::string, pid_t>> out;
  for (const auto& c : answer["containers"]) {
    pid_t pid = c.value("pid", 0);
    if (pid > 0) out.emplace_back(c.value("id", std::string()), pid);
  }
  return out;
}

std::vector<pid_t> CorraldProcess::supervision_pids() {
  std::set<pid_t> containers;
  for (const auto& [id, pid] : running_inits()) containers.insert(pid);
  return process_tree(pid_, containers);
}

std::string CorraldProcess::stop() {
  if (pid_ < 0) return "";
  std::string problem;
  std::vector<pid_t> tree = process_tree(pid_);
  try {
    auto connection = connect();
    auto answer = connection.request({{"verb", "list"}});
    for (const auto& c : answer.value("containers", nlohmann::json::array())) {
      auto deleted = connection.request(
          {{"verb", "delete"}, {"id", c.value("id", std::string())}, {"force", true}});
      if (auto error = response_error(deleted); !error.empty() && problem.empty())
        problem = "delete " + c.value("id", std::string()) + ": " + error;
    }
    connection.request({{"verb", "shutdown"}});
  } catch (const std::exception& e) {
    if (problem.empty()) problem = e.what();
  }
  if (!wait_exit(pid_, std::chrono::seconds(10))) {
    if (problem.empty()) problem = "corrald did not exit within 10 s of shutdown: SIGTERM";
    ::kill(pid_, SIGTERM);
    if (!wait_exit(pid_, std::chrono::seconds(5))) {
      for (pid_t p : tree) ::kill(p, SIGKILL);
      wait_exit(pid_, std::chrono::seconds(5));
    }
  }
  // A keeper's daemon may outlive the keeper by a moment: the processes of the tree must be
  // gone before the root goes.
  for (pid_t p : tree)
    for (int i = 0; i < 200 && p != pid_ && ::kill(p, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pid_ = -1;
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec && problem.empty()) problem = "cannot remove " + dir_ + ": " + ec.message();
  return problem;
}

std::string CorraldProcess::log_tail() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? "..." + all.substr(all.size() - 2000) : all;
}

}  // namespace corral::bench
