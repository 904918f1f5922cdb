#include "apps/corral-bench/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace corral::bench {

namespace {

constexpr double kPanelWidth = 520, kPanelHeight = 400;
constexpr double kLeft = 70, kRight = 20, kTop = 40, kBottom = 110;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (v >= 1000) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.0f}", v);
  if (v >= 1) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2g}", v);
}

// Stacked horizontal bars, one per item, on a linear axis from 0.
std::string render_bars(const Panel& panel, double x0) {
  std::string out = fmt::format("<g transform=\"translate({},0)\">\n", x0);
  out += fmt::format(
      "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{}</text>\n",
      kPanelWidth / 2, escape(panel.title));
  const double left = 100;  // room for the bars' names
  const double w = kPanelWidth - left - kRight, h = kPanelHeight - kTop - kBottom;
  double xmax = 0;
  for (const Bar& bar : panel.bars) {
    double total = 0;
    for (double v : bar.values) total += std::max(0.0, v);
    xmax = std::max(xmax, total);
  }
  if (xmax <= 0) xmax = 1;
  xmax *= 1.1;
  auto px = [&](double x) { return left + x / xmax * w; };
  for (int i = 0; i <= 5; ++i) {
    double x = xmax * i / 5;
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eee\"/>\n",
                       px(x), kTop, kTop + h);
    out +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
                    px(x), kTop + h + 15, number(x));
  }
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", left,
      kTop, w, h);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                     left + w / 2, kTop + h + 32, escape(panel.x_label));
  const double slot = h / static_cast<double>(panel.bars.size());
  const double thickness = std::min(24.0, slot * 0.7);
  for (std::size_t b = 0; b < panel.bars.size(); ++b) {
    const Bar& bar = panel.bars[b];
    double y = kTop + slot * (b + 0.5);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
                       left - 5, y + 4, escape(bar.name));
    double at = 0, total = 0;
    for (std::size_t i = 0; i < bar.values.size(); ++i) {
      double v = std::max(0.0, bar.values[i]);
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n",
          px(at), y - thickness / 2, px(at + v) - px(at), thickness,
          kColors[i % std::size(kColors)]);
      at += v;
      total += v;
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\">{}</text>\n", px(at) + 4,
                       y + 4, number(total));
  }
  for (std::size_t i = 0; i < panel.segments.size(); ++i) {
    double lx = left + (i % 3) * (w / 3), ly = kTop + h + 52 + (i / 3) * 16;
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"8\" fill=\"{}\"/>\n", lx,
                       ly - 8, kColors[i % std::size(kColors)]);
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n", lx + 16, ly,
                       escape(panel.segments[i]));
  }
  out += "</g>\n";
  return out;
}

std::string render_panel(const Panel& panel, double x0) {
  if (!panel.bars.empty()) return render_bars(panel, x0);
  double xmin = std::numeric_limits<double>::max(), xmax = 0;
  double ymin = std::numeric_limits<double>::max(), ymax = 0;
  for (const Series& s : panel.series) {
    for (auto [x, y] : s.points) {
      if (x <= 0 || (panel.log_y && y <= 0)) continue;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  std::string out = fmt::format("<g transform=\"translate({},0)\">\n", x0);
  out += fmt::format(
      "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{}</text>\n",
      kPanelWidth / 2, escape(panel.title));
  const double w = kPanelWidth - kLeft - kRight, h = kPanelHeight - kTop - kBottom;
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", kLeft,
      kTop, w, h);
  if (xmax == 0) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text>\n</g>\n",
                       kLeft + w / 2, kTop + h / 2);
    return out;
  }
  // x: log10 over whole decades; y: from 0 (linear) or whole decades (log).
  double lx0 = std::floor(std::log10(xmin)), lx1 = std::ceil(std::log10(xmax));
  if (lx1 == lx0) lx1 += 1;
  double y0 = 0, y1 = ymax * 1.1;
  if (panel.log_y) {
    y0 = std::floor(std::log10(ymin));
    y1 = std::ceil(std::log10(ymax));
    if (y1 == y0) y1 += 1;
  }
  auto px = [&](double x) { return kLeft + (std::log10(x) - lx0) / (lx1 - lx0) * w; };
  auto py = [&](double y) {
    double v = panel.log_y ? std::log10(y) : y;
    return kTop + h - (v - y0) / (y1 - y0) * h;
  };
  for (double d = lx0; d <= lx1; d += 1) {
    double x = std::pow(10, d);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eee\"/>\n",
                       px(x), kTop, kTop + h);
    out +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
                    px(x), kTop + h + 15, number(x));
  }
  std::vector<double> yticks;
  if (panel.log_y) {
    for (double d = y0; d <= y1; d += 1) yticks.push_back(std::pow(10, d));
  } else {
    for (int i = 0; i <= 5; ++i) yticks.push_back(y1 * i / 5);
  }
  for (double y : yticks) {
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#eee\"/>\n",
                       kLeft, py(y), kLeft + w);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
                       kLeft - 5, py(y) + 4, number(y));
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                     kLeft + w / 2, kTop + h + 32, escape(panel.x_label));
  out += fmt::format(
      "<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\" "
      "font-size=\"12\">{}</text>\n",
      kTop + h / 2, escape(panel.y_label));
  for (std::size_t i = 0; i < panel.series.size(); ++i) {
    const Series& s = panel.series[i];
    const char* color = kColors[i % std::size(kColors)];
    std::string points;
    for (auto [x, y] : s.points) {
      if (x <= 0 || (panel.log_y && y <= 0)) continue;
      points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(x),
                         py(y), color);
    }
    out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                       points, color);
    double lx = kLeft + (i % 3) * (w / 3), ly = kTop + h + 52 + (i / 3) * 16;
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"4\" fill=\"{}\"/>\n", lx,
                       ly - 4, color);
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n", lx + 16, ly,
                       escape(s.name));
  }
  out += "</g>\n";
  return out;
}

}  // namespace

std::string render_svg(const std::string& title, const std::vector<Panel>& panels) {
  double width = kPanelWidth * std::max<std::size_t>(1, panels.size());
  double height = kPanelHeight + 30;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  out += fmt::format("<text x=\"10\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text>\n",
                     height - 8, escape(title));
  for (std::size_t i = 0; i < panels.size(); ++i) out += render_panel(panels[i], i * kPanelWidth);
  out += "</svg>\n";
  return out;
}

}  // namespace corral::bench
