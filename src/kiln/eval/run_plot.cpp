#include "kiln/eval/run_plot.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/eval/chart.h"

namespace kiln::eval {

namespace fs = std::filesystem;

RunCurves read_run(const std::string& path) {
  fs::path file = fs::is_directory(path) ? fs::path(path) / "metrics.jsonl" : fs::path(path);
  std::ifstream in(file);
  KILN_REQUIRE(in.good(), file.string(),
               ": cannot open (expected a run folder with metrics.jsonl)");
  RunCurves r;
  fs::path dir = fs::is_directory(path) ? fs::path(path) : file.parent_path();
  r.name = fs::weakly_canonical(dir).filename().string();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    KILN_REQUIRE(j.is_object(), file.string(), ":", n, ": found \"", line.substr(0, 60),
                 "\", expected a JSON object");
    auto num = [&](const char* key) {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) return std::nan("");
      KILN_REQUIRE(it->is_number(), file.string(), ":", n, ": field ", key, ": found ", it->dump(),
                   ", expected a number");
      return it->get<double>();
    };
    double step = num("step");
    KILN_REQUIRE(std::isfinite(step), file.string(), ":", n, ": field step: missing");
    r.step.push_back(step);
    r.loss.push_back(num("loss"));
    r.lr.push_back(num("lr"));
    double v = num("val_loss");
    if (std::isfinite(v)) {
      r.val_step.push_back(step);
      r.val_loss.push_back(v);
    }
  }
  KILN_REQUIRE(!r.step.empty(), file.string(), ": no metrics yet (an empty file)");
  return r;
}

void plot_runs(const std::vector<RunCurves>& runs, const std::string& png_path,
               const PlotOptions& opt) {
  KILN_REQUIRE(!runs.empty(), "plot: expected at least one run");
  Chart loss{"LOSS", "STEP", opt.log_y ? "LOSS (LOG)" : "LOSS", opt.log_y, {}};
  Chart lr{"LEARNING RATE", "STEP", "LR", false, {}};
  bool any_lr = false;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunCurves& r = runs[i];
    Color c = palette(i);
    loss.series.push_back({r.name + " train", r.step, r.loss, c});
    if (!r.val_step.empty())
      loss.series.push_back({r.name + " val", r.val_step, r.val_loss, c, true, true});
    lr.series.push_back({r.name, r.step, r.lr, c});
    for (double v : r.lr) any_lr |= std::isfinite(v);
  }
  Canvas cv(opt.width, opt.height);
  int loss_h = any_lr ? opt.height * 62 / 100 : opt.height;
  draw_chart(cv, {0, 0, opt.width, loss_h}, loss);
  if (any_lr) draw_chart(cv, {0, loss_h, opt.width, opt.height - loss_h}, lr);
  cv.save_png(png_path);
}

}  // namespace kiln::eval
