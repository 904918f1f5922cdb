// corral-wait-bench: waiting on N child processes, three ways, in one run.
//
//   reactor   this project's reactor: IORING_OP_WAITID per child, no descriptor per child
//   asio      Asio/epoll on pidfds: one pidfd + one epoll registration per child
//   threads   one std::thread per child, blocked in waitpid
//
// Each (model, N) run happens in a fresh forked process so that peak RSS is its own. The
// children (busybox sh blocked on a shared pipe) are all started first; then the model sets up
// its waits; then the pipe is closed and every child exits. Reported per run: setup time, time
// from release to the last exit observed, the process's CPU time over setup + wait, and the peak
// RSS growth per child over the baseline taken before setup.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "wait_models.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  double setup_s = 0, wait_s = 0, cpu_s = 0, rss_per_child_b = 0;
  int seen = 0;
};

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs one model in a fresh process; the sample comes back through a pipe.
Sample run_isolated(corral::bench::WaitModel model, int n) {
  int out[2];
  if (::pipe(out) < 0) std::exit(1);
  pid_t worker = ::fork();
  if (worker == 0) {
    ::close(out[0]);
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) < 0) std::_Exit(1);
    auto pids = corral::bench::start_blocked_children(n, gate[0]);
    ::close(gate[0]);
    Sample s;
    long rss_before = peak_rss_kib();
    double cpu_before = cpu_seconds();
    auto t0 = Clock::now();
    corral::bench::WaitHooks hooks;
    hooks.release = [&] { ::close(gate[1]); };
    auto outcome = corral::bench::wait_all(model, pids, hooks);
    s.setup_s = outcome.setup_s;
    s.seen = outcome.with_status_7;
    s.wait_s = std::chrono::duration<double>(Clock::now() - t0).count() - s.setup_s;
    s.cpu_s = cpu_seconds() - cpu_before;
    s.rss_per_child_b = (peak_rss_kib() - rss_before) * 1024.0 / n;
    [[maybe_unused]] ssize_t w = ::write(out[1], &s, sizeof s);
    std::_Exit(0);
  }
  ::close(out[1]);
  Sample s;
  if (::read(out[0], &s, sizeof s) != sizeof s) s.seen = -1;
  ::close(out[0]);
  ::waitpid(worker, nullptr, 0);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000};
  int repetitions = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      sizes = {200};
      repetitions = 1;
    } else if (a.rfind("--reps=", 0) == 0) {
      repetitions = std::atoi(a.c_str() + 7);
    } else if (a.rfind("--n=", 0) == 0) {
      sizes = {std::atoi(a.c_str() + 4)};
    }
  }
  using corral::bench::WaitModel;
  const std::vector<WaitModel> models = {WaitModel::Reactor, WaitModel::Asio, WaitModel::Threads};
  std::printf("%-8s %6s %10s %10s %10s %14s %10s\n", "model", "N", "setup ms", "wait ms", "cpu ms",
              "RSS B/child", "wait/reactor");
  bool all_seen = true;
  for (int n : sizes) {
    std::vector<std::vector<Sample>> samples(models.size());
    // Interleaved: a drifting machine affects every model alike.
    for (int r = 0; r < repetitions; ++r) {
      for (std::size_t m = 0; m < models.size(); ++m)
        samples[m].push_back(run_isolated(models[m], n));
    }
    double reactor_wait = 0;
    for (std::size_t m = 0; m < models.size(); ++m) {
      std::vector<double> setup, wait, cpu, rss;
      for (auto& s : samples[m]) {
        setup.push_back(s.setup_s * 1e3);
        wait.push_back(s.wait_s * 1e3);
        cpu.push_back(s.cpu_s * 1e3);
        rss.push_back(s.rss_per_child_b);
        if (s.seen != n) all_seen = false;
      }
      if (m == 0) reactor_wait = median(wait);
      std::printf("%-8s %6d %10.1f %10.1f %10.1f %14.0f %10.2f\n",
                  corral::bench::wait_model_name(models[m]), n, median(setup), median(wait),
                  median(cpu), median(rss), median(wait) / reactor_wait);
    }
  }
  if (!all_seen) std::printf("WARNING: some run did not see every exit\n");
  return all_seen ? 0 : 1;
}
