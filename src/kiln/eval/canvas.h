#pragma once
// An RGB raster that charts draw on: filled rectangles, lines with width and dashes, and text in
// the 5x7 bitmap font. Kept deliberately small: kiln draws its own plots so that `kiln plot` and
// `kiln bench` need no Python or plotting library.
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::eval {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

class Canvas {
 public:
  Canvas(int width, int height, Color background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& rgb() const { return rgb_; }

  // Pixels outside the canvas are ignored by every drawing call.
  void set(int x, int y, Color c);
  Color at(int x, int y) const;
  void fill(int x0, int y0, int x1, int y1, Color c);  // inclusive corners
  // A line of `width` pixels; a dashed line draws 6 pixels and skips 4 along its length.
  void line(double x0, double y0, double x1, double y1, Color c, int width = 1,
            bool dashed = false);
  // Text with its top-left corner at (x, y); each font pixel becomes scale x scale pixels.
  void text(int x, int y, const std::string& s, Color c, int scale = 1);
  // Text turned 90 degrees counter-clockwise (for a y-axis label), reading bottom to top from
  // its bottom-left corner (x, y).
  void text_up(int x, int y, const std::string& s, Color c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1) { return int(s.size()) * 6 * scale; }
  static int text_height(int scale = 1) { return 7 * scale; }

  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

}  // namespace kiln::eval
