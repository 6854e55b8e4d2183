#pragma once
// `kiln plot`: the loss and learning-rate curves of training runs, read from each run folder's
// metrics.jsonl (written by train/trainer), drawn to one PNG.
#include <string>
#include <vector>

namespace kiln::eval {

struct RunCurves {
  std::string name;  // the run folder's name
  std::vector<double> step, loss, lr;
  std::vector<double> val_step, val_loss;  // only the steps that evaluated
};

// Reads RUN_DIR/metrics.jsonl (or a metrics.jsonl path). Errors name the file and line.
RunCurves read_run(const std::string& path);

struct PlotOptions {
  bool log_y = false;
  int width = 1000, height = 800;
};

// Loss (train solid, validation dashed with markers) above the learning rate, one colour per run.
void plot_runs(const std::vector<RunCurves>& runs, const std::string& png_path,
               const PlotOptions& opt = {});

}  // namespace kiln::eval
