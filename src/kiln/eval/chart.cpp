#include "kiln/eval/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "kiln/core/error.h"

namespace kiln::eval {
namespace {

constexpr Color kInk{40, 40, 40}, kGrid{225, 225, 225};

bool usable(double y, bool log_y) {
  return std::isfinite(y) && (!log_y || y > 0);
}

std::string tick_label(double v, double step) {
  char buf[32];
  if (v == 0) return "0";
  double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3)
    std::snprintf(buf, sizeof buf, "%.2g", v);
  else {
    // Enough decimals to tell neighbouring ticks apart.
    int decimals = std::max(0, int(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  }
  return buf;
}

}  // namespace

double Axes::px(double x) const {
  return area.x + (x - x0) / (x1 - x0) * (area.w - 1);
}

double Axes::py(double y) const {
  double v = log_y ? std::log10(y) : y;
  return area.y + area.h - 1 - (v - y0) / (y1 - y0) * (area.h - 1);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  KILN_REQUIRE(std::isfinite(lo) && std::isfinite(hi) && hi > lo && target > 0,
               "nice_ticks: found range [", lo, ", ", hi, "], expected finite lo < hi");
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

Color palette(size_t i) {
  static const Color colors[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                 {188, 189, 34},  {23, 190, 207}};
  return colors[i % 10];
}

Axes draw_chart(Canvas& cv, Rect box, const Chart& chart) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const Series& s : chart.series) {
    KILN_REQUIRE(s.x.size() == s.y.size(), "chart: series \"", s.name, "\" has ", s.x.size(),
                 " x values and ", s.y.size(), " y values, expected equal counts");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], chart.log_y)) continue;
      double y = chart.log_y ? std::log10(s.y[i]) : s.y[i];
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  }
  KILN_REQUIRE(std::isfinite(xmin), "chart \"", chart.title, "\": no series has a point to draw");
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) {
    ymin -= 0.5;
    ymax += 0.5;
  }
  double pad = (ymax - ymin) * 0.05;
  ymin -= pad;
  ymax += pad;

  Axes ax;
  ax.log_y = chart.log_y;
  int left = 70, right = 20, top = 30, bottom = 45;
  ax.area = {box.x + left, box.y + top, box.w - left - right, box.h - top - bottom};
  KILN_REQUIRE(ax.area.w > 20 && ax.area.h > 20, "chart \"", chart.title, "\": box ", box.w, "x",
               box.h, " too small");
  ax.x0 = xmin;
  ax.x1 = xmax;
  ax.y0 = ymin;
  ax.y1 = ymax;
  const Rect& a = ax.area;

  // Grid and tick labels first, so the data lines draw over them.
  std::vector<double> xt = nice_ticks(xmin, xmax, 8);
  double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;
  for (double t : xt) {
    int x = int(std::lround(ax.px(t)));
    cv.line(x, a.y, x, a.y + a.h - 1, kGrid);
    std::string l = tick_label(t, xstep);
    cv.text(x - Canvas::text_width(l) / 2, a.y + a.h + 6, l, kInk);
  }
  std::vector<double> yt = nice_ticks(ymin, ymax, 6);
  double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : yt) {
    int y = int(std::lround(ax.py(chart.log_y ? std::pow(10.0, t) : t)));  // t in axis units
    cv.line(a.x, y, a.x + a.w - 1, y, kGrid);
    std::string l =
        chart.log_y ? tick_label(std::pow(10.0, t), std::pow(10.0, t) / 10) : tick_label(t, ystep);
    cv.text(a.x - 6 - Canvas::text_width(l), y - 3, l, kInk);
  }
  cv.line(a.x, a.y + a.h - 1, a.x + a.w - 1, a.y + a.h - 1, kInk);
  cv.line(a.x, a.y, a.x, a.y + a.h - 1, kInk);
  cv.text(box.x + (box.w - Canvas::text_width(chart.title, 2)) / 2, box.y + 6, chart.title, kInk,
          2);
  cv.text(a.x + (a.w - Canvas::text_width(chart.x_label)) / 2, a.y + a.h + 24, chart.x_label, kInk);
  cv.text_up(box.x + 6, a.y + (a.h + Canvas::text_width(chart.y_label)) / 2, chart.y_label, kInk);

  for (const Series& s : chart.series) {
    bool have_prev = false;
    double px0 = 0, py0 = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], chart.log_y)) {
        have_prev = false;
        continue;
      }
      double px = ax.px(s.x[i]), py = ax.py(s.y[i]);
      if (have_prev) cv.line(px0, py0, px, py, s.color, 2, s.dashed);
      if (s.markers) {
        int cx = int(std::lround(px)), cy = int(std::lround(py));
        cv.fill(cx - 2, cy - 2, cx + 2, cy + 2, s.color);
      }
      px0 = px;
      py0 = py;
      have_prev = true;
    }
  }

  // Legend in the top-right corner of the plot area, on a white box.
  int lw = 0;
  for (const Series& s : chart.series) lw = std::max(lw, Canvas::text_width(s.name));
  int lx = a.x + a.w - lw - 40, ly = a.y + 6;
  int lh = int(chart.series.size()) * 12 + 6;
  cv.fill(lx - 4, ly - 4, a.x + a.w - 4, ly + lh - 4, {255, 255, 255});
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    int y = ly + int(i) * 12;
    cv.line(lx, y + 3, lx + 20, y + 3, s.color, 2, s.dashed);
    cv.text(lx + 26, y, s.name, kInk);
  }
  return ax;
}

}  // namespace kiln::eval
