#pragma once
// Line charts on a Canvas: axes with 1-2-5 ticks, linear or log y, one line per series, a legend.
// Used by `kiln plot` (loss and learning-rate curves) and the benchmarks' sweeps.
#include <string>
#include <vector>

#include "kiln/eval/canvas.h"

namespace kiln::eval {

struct Series {
  std::string name;
  std::vector<double> x, y;  // equal lengths; non-finite (or, on a log axis, non-positive) y
                             // values are gaps in the line
  Color color;
  bool dashed = false;
  bool markers = false;  // a 5x5 square at each point (sparse series such as validation loss)
};

struct Chart {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<Series> series;
};

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};

// Where data lands: the plot area inside the axes and the data range it spans.
struct Axes {
  Rect area;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // y0/y1 are log10 values on a log axis
  bool log_y = false;
  double px(double x) const;
  double py(double y) const;
};

// Ticks covering [lo, hi] at a step of 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);
// Distinct colours for series 0, 1, 2, ... (repeats after ten).
Color palette(size_t i);

// Draws `chart` into `box` of the canvas; returns the axes so callers (and tests) can map data to
// pixels. Throws kiln::Error when no series has a point to draw.
Axes draw_chart(Canvas& canvas, Rect box, const Chart& chart);

}  // namespace kiln::eval
