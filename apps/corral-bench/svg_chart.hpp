#pragma once
// A small SVG writer for charts (our own: no plotting library): panels side by side, each
// either lines (a log-scale x axis, a linear or log y axis, one polyline per series, a legend)
// or stacked horizontal bars (one bar per item, one coloured segment per part, a legend).
#include <string>
#include <utility>
#include <vector>

namespace corral::bench {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x > 0
};

// One stacked bar: values[i] is the length of segment i (Panel::segments names them).
struct Bar {
  std::string name;
  std::vector<double> values;
};

struct Panel {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<Series> series;
  // A bar panel when `bars` is not empty (x_label then names the bars' unit).
  std::vector<std::string> segments;
  std::vector<Bar> bars;
};

// The SVG document of `panels` laid out left to right.
std::string render_svg(const std::string& title, const std::vector<Panel>& panels);

}  // namespace corral::bench
