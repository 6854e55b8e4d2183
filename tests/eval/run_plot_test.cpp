// `kiln plot`'s reading of metrics.jsonl and the image it draws.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "kiln/core/error.h"
#include "kiln/eval/chart.h"
#include "kiln/eval/run_plot.h"

namespace kiln::eval {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("kiln_plot_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

fs::path write_run(const fs::path& root, const std::string& name, const std::string& text) {
  fs::create_directories(root / name);
  std::ofstream(root / name / "metrics.jsonl") << text;
  return root / name;
}

TEST(RunPlot, ReadsStepsLossLrAndValidationPoints) {
  TempDir t;
  fs::path run = write_run(t.path, "dense",
                           "{\"step\":1,\"loss\":4.0,\"lr\":0.001,\"grad_norm\":1}\n"
                           "{\"step\":2,\"loss\":3.5,\"lr\":0.002,\"val_loss\":3.6}\n"
                           "{\"step\":3,\"loss\":3.0,\"lr\":0.002}\n");
  RunCurves r = read_run(run.string());
  EXPECT_EQ(r.name, "dense");
  EXPECT_EQ(r.step, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(r.loss, (std::vector<double>{4.0, 3.5, 3.0}));
  EXPECT_EQ(r.lr, (std::vector<double>{0.001, 0.002, 0.002}));
  EXPECT_EQ(r.val_step, (std::vector<double>{2}));
  EXPECT_EQ(r.val_loss, (std::vector<double>{3.6}));
}

TEST(RunPlot, ErrorsNameFileAndLine) {
  TempDir t;
  auto msg = [](const fs::path& p) {
    try {
      read_run(p.string());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg(write_run(t.path, "bad", "{\"step\":1}\nnot json\n")).find("metrics.jsonl:2"),
            std::string::npos);
  EXPECT_NE(msg(write_run(t.path, "type", "{\"step\":1,\"loss\":\"x\"}\n")).find("field loss"),
            std::string::npos);
  EXPECT_NE(msg(write_run(t.path, "empty", "")).find("no metrics"), std::string::npos);
  EXPECT_NE(msg(t.path / "absent").find("cannot open"), std::string::npos);
}

TEST(RunPlot, DrawsEachRunInItsOwnColour) {
  TempDir t;
  std::string a, b;
  for (int s = 1; s <= 50; ++s) {
    a += "{\"step\":" + std::to_string(s) + ",\"loss\":" + std::to_string(5.0 / s) +
         ",\"lr\":0.001}\n";
    b += "{\"step\":" + std::to_string(s) + ",\"loss\":" + std::to_string(6.0 / s) +
         ",\"lr\":0.002}\n";
  }
  std::vector<RunCurves> runs = {read_run(write_run(t.path, "a", a).string()),
                                 read_run(write_run(t.path, "b", b).string())};
  fs::path png = t.path / "out.png";
  plot_runs(runs, png.string(), {false, 600, 400});
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 1000u);
  // The same chart drawn on a canvas here holds both run colours.
  Canvas cv(600, 400);
  Chart ch{"LOSS",
           "STEP",
           "LOSS",
           false,
           {{"a", runs[0].step, runs[0].loss, palette(0)},
            {"b", runs[1].step, runs[1].loss, palette(1)}}};
  Axes ax = draw_chart(cv, {0, 0, 600, 400}, ch);
  EXPECT_EQ(cv.at(int(std::lround(ax.px(25))), int(std::lround(ax.py(5.0 / 25)))), palette(0));
}

}  // namespace
}  // namespace kiln::eval
