#pragma once
// A small SVG writer for line charts (our own: no plotting library): panels side by side, each
// with a log-scale x axis, a linear or log y axis, one polyline per series and a legend.
#include <string>
#include <utility>
#include <vector>

namespace corral::bench {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x > 0
};

struct Panel {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<Series> series;
};

// The SVG document of `panels` laid out left to right.
std::string render_svg(const std::string& title, const std::vector<Panel>& panels);

}  // namespace corral::bench
