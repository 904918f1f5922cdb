#pragma once
// A progress line on stderr for long runs: redrawn in place on a terminal, a line every tenth
// of the way otherwise (CI logs).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "apps/corral-bench/measure.hpp"

namespace corral::bench {

class Progress {
 public:
  Progress(std::string label, int total)
      : label_(std::move(label)), total_(total), tty_(::isatty(2)), t0_(Clock::now()) {
    draw();
  }
  ~Progress() {
    std::fprintf(stderr, "%s[%s] %d/%d done in %.1f s\n", tty_ ? "\r\033[K" : "", label_.c_str(),
                 done_, total_, seconds_since(t0_));
  }
  void step(const std::string& what = {}) {
    ++done_;
    what_ = what;
    if (tty_ || total_ < 10 || done_ % (total_ / 10) == 0) draw();
  }

 private:
  void draw() {
    const int width = 30;
    int filled = total_ ? done_ * width / total_ : width;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "%s[%s] %s %d/%d %s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
                 bar.c_str(), done_, total_, what_.c_str(), tty_ ? "" : "\n");
    std::fflush(stderr);
  }
  std::string label_, what_;
  int total_, done_ = 0;
  bool tty_;
  Clock::time_point t0_;
};

}  // namespace corral::bench
