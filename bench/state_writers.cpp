#include "state_writers.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "reactor/reactor.hpp"
#include "reactor/scope.hpp"
#include "runtime/state_store.hpp"

namespace corral::bench {

namespace fs = std::filesystem;

StateFiles::StateFiles(int count) {
  char pattern[] = "/var/tmp/corral-bench-state-XXXXXX";
  if (!::mkdtemp(pattern)) {
    std::perror("mkdtemp /var/tmp/corral-bench-state-XXXXXX");
    std::abort();
  }
  root = pattern;
  states.reserve(count);
  for (int i = 0; i < count; ++i) {
    ContainerState s;
    s.id = "c" + std::to_string(i);
    s.status = ContainerStatus::Running;
    s.init_pid = 1000 + i;
    s.config = {{"ociVersion", "1.0.2"}, {"pad", std::string(1500, 'x')}};
    fs::create_directories(root + "/" + s.id);
    states.push_back(std::move(s));
  }
}

StateFiles::~StateFiles() {
  std::error_code ignored;
  fs::remove_all(root, ignored);
}

void blocking_posix_save(const std::string& dir, const std::string& text) {
  std::string tmp = dir + "/.state.json.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) < 0 || ::close(fd) < 0 ||
      ::rename(tmp.c_str(), (dir + "/state.json").c_str()) < 0) {
    std::perror(("blocking state write in " + dir).c_str());
    std::abort();
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ::fsync(dfd);
  ::close(dfd);
}

void reactor_save_all(const StateFiles& files, int concurrency) {
  StateStore store(files.root);
  // The thread's own reactor when it has one (a thread may own only one), else one for the call.
  std::optional<reactor::Reactor> own;
  reactor::Reactor* r = reactor::Reactor::current();
  if (!r) r = &own.emplace();
  r->block_on([&]() -> reactor::Task<void> {
    for (std::size_t i = 0; i < files.states.size(); i += concurrency) {
      reactor::TaskScope scope;
      for (std::size_t j = i; j < std::min(files.states.size(), i + concurrency); ++j) {
        scope.spawn([](const StateStore& st, const ContainerState& s) -> reactor::Task<void> {
          auto ok = co_await st.save_async(s);
          if (!ok) {
            std::fprintf(stderr, "reactor state write of %s failed\n", s.id.c_str());
            std::abort();
          }
        }(store, files.states[j]));
      }
      co_await scope.join();
    }
  }());
}

}  // namespace corral::bench
