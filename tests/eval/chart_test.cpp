// Charts: ticks, where data lands in pixels (linear and log axes), gaps, glyphs and the legend.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/core/error.h"
#include "kiln/eval/chart.h"
#include "kiln/eval/font5x7.h"

namespace kiln::eval {
namespace {

const Color kRed{214, 39, 40};

// True when a pixel of colour c lies within r pixels of (x, y).
bool near(const Canvas& cv, double x, double y, Color c, int r = 2) {
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) {
      int px = int(std::lround(x)) + dx, py = int(std::lround(y)) + dy;
      if (px >= 0 && py >= 0 && px < cv.width() && py < cv.height() && cv.at(px, py) == c)
        return true;
    }
  return false;
}

TEST(Chart, NiceTicksStepOneTwoFive) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0}));
  std::vector<double> t = nice_ticks(0.13, 0.87, 4);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_NEAR(t[0], 0.2, 1e-12);
  EXPECT_NEAR(t[3], 0.8, 1e-12);
  t = nice_ticks(0, 1500, 8);
  EXPECT_EQ(t[1] - t[0], 200);
  EXPECT_THROW(nice_ticks(1, 1, 5), Error);
}

TEST(Chart, DataLandsWhereTheAxesSay) {
  Canvas cv(400, 300);
  Chart ch{"T", "X", "Y", false, {{"line", {0, 1}, {0, 1}, kRed}}};
  Axes ax = draw_chart(cv, {0, 0, 400, 300}, ch);
  EXPECT_NEAR(ax.px(0), ax.area.x, 1e-9);
  EXPECT_NEAR(ax.px(1), ax.area.x + ax.area.w - 1, 1e-9);
  for (double t : {0.1, 0.5, 0.9}) EXPECT_TRUE(near(cv, ax.px(t), ax.py(t), kRed, 1)) << t;
  // Above the diagonal, away from the legend, stays free of the series colour.
  EXPECT_FALSE(near(cv, ax.px(0.3), ax.py(0.7), kRed, 3));
}

TEST(Chart, LogAxisPutsDecadesEvenlyAndSkipsNonPositive) {
  Canvas cv(400, 300);
  Chart ch{"T", "X", "Y", true, {{"s", {0, 1, 2, 3}, {10, 100, 1000, -5}, kRed}}};
  Axes ax = draw_chart(cv, {0, 0, 400, 300}, ch);
  EXPECT_NEAR(ax.py(100), (ax.py(10) + ax.py(1000)) / 2, 1e-9);
  EXPECT_TRUE(near(cv, ax.px(0.5), ax.py(std::sqrt(10.0 * 100.0)), kRed, 1));
  // The non-positive point is a gap: nothing drawn towards x = 3.
  EXPECT_FALSE(near(cv, ax.px(2.7), ax.py(1000), kRed, 3));
}

TEST(Chart, NanIsAGapAndEmptyChartsAreErrors) {
  Canvas cv(400, 300);
  Chart ch{"T", "X", "Y", false, {{"s", {0, 1, 2, 3}, {0, 1, NAN, 1}, kRed}}};
  Axes ax = draw_chart(cv, {0, 0, 400, 300}, ch);
  EXPECT_TRUE(near(cv, ax.px(0.5), ax.py(0.5), kRed, 1));
  EXPECT_FALSE(near(cv, ax.px(1.5), ax.py(1), kRed, 3));
  Chart empty{"E", "X", "Y", false, {{"s", {0}, {NAN}, kRed}}};
  EXPECT_THROW(draw_chart(cv, {0, 0, 400, 300}, empty), Error);
  Chart ragged{"R", "X", "Y", false, {{"s", {0, 1}, {0}, kRed}}};
  EXPECT_THROW(draw_chart(cv, {0, 0, 400, 300}, ragged), Error);
}

TEST(Canvas, TextDrawsTheGlyphBits) {
  Canvas cv(20, 10);
  cv.text(1, 1, "7", kRed);
  const auto& g = glyph5x7('7');
  for (int r = 0; r < 7; ++r)
    for (int b = 0; b < 5; ++b)
      EXPECT_EQ(cv.at(1 + b, 1 + r) == kRed, bool(g[size_t(r)] & (0x10 >> b))) << r << "," << b;
  EXPECT_EQ(glyph5x7('a'), glyph5x7('A'));
  EXPECT_EQ(glyph5x7('\x01'), glyph5x7('?'));
}

}  // namespace
}  // namespace kiln::eval
