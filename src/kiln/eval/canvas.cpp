#include "kiln/eval/canvas.h"

#include <algorithm>
#include <cmath>

#include "kiln/core/error.h"
#include "kiln/eval/font5x7.h"
#include "kiln/io/png.h"

namespace kiln::eval {

Canvas::Canvas(int width, int height, Color background) : width_(width), height_(height) {
  KILN_REQUIRE(width > 0 && height > 0 && width <= 16384 && height <= 16384, "canvas: found size ",
               width, "x", height, ", expected 1..16384 on each side");
  rgb_.resize(size_t(width) * size_t(height) * 3);
  fill(0, 0, width - 1, height - 1, background);
}

void Canvas::set(int x, int y, Color c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = &rgb_[(size_t(y) * size_t(width_) + size_t(x)) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

Color Canvas::at(int x, int y) const {
  KILN_REQUIRE(x >= 0 && y >= 0 && x < width_ && y < height_, "canvas: pixel (", x, ", ", y,
               ") outside ", width_, "x", height_);
  const uint8_t* p = &rgb_[(size_t(y) * size_t(width_) + size_t(x)) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::fill(int x0, int y0, int x1, int y1, Color c) {
  for (int y = std::max(0, std::min(y0, y1)); y <= std::min(height_ - 1, std::max(y0, y1)); ++y)
    for (int x = std::max(0, std::min(x0, x1)); x <= std::min(width_ - 1, std::max(x0, x1)); ++x)
      set(x, y, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, Color c, int width, bool dashed) {
  double dx = x1 - x0, dy = y1 - y0;
  double len = std::hypot(dx, dy);
  // One sample per half pixel along the line; each sample stamps a width x width square.
  int steps = std::max(1, int(std::ceil(len * 2)));
  int lo = -(width - 1) / 2, hi = width / 2;
  for (int i = 0; i <= steps; ++i) {
    double t = double(i) / steps;
    if (dashed && std::fmod(t * len, 10.0) >= 6.0) continue;
    int x = int(std::lround(x0 + t * dx)), y = int(std::lround(y0 + t * dy));
    for (int oy = lo; oy <= hi; ++oy)
      for (int ox = lo; ox <= hi; ++ox) set(x + ox, y + oy, c);
  }
}

void Canvas::text(int x, int y, const std::string& s, Color c, int scale) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto& rows = glyph5x7(s[i]);
    int gx = x + int(i) * 6 * scale;
    for (int r = 0; r < 7; ++r)
      for (int b = 0; b < 5; ++b)
        if (rows[size_t(r)] & (0x10 >> b))
          fill(gx + b * scale, y + r * scale, gx + b * scale + scale - 1, y + r * scale + scale - 1,
               c);
  }
}

void Canvas::text_up(int x, int y, const std::string& s, Color c, int scale) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto& rows = glyph5x7(s[i]);
    int gy = y - int(i) * 6 * scale;
    // Glyph pixel (column b, row r) lands at (x + r, gy - b) after the quarter turn.
    for (int r = 0; r < 7; ++r)
      for (int b = 0; b < 5; ++b)
        if (rows[size_t(r)] & (0x10 >> b))
          fill(x + r * scale, gy - b * scale - scale + 1, x + r * scale + scale - 1, gy - b * scale,
               c);
  }
}

void Canvas::save_png(const std::string& path) const {
  io::write_png(path, width_, height_, rgb_);
}

}  // namespace kiln::eval
