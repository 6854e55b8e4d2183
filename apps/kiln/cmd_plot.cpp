// kiln plot RUN_DIR... [--out FILE.png] [--log]: loss and learning-rate curves of one or several
// training runs in one PNG.
#include <cstdio>

#include "command.h"
#include "kiln/eval/run_plot.h"

namespace kiln::app {
namespace {

struct PlotArgs {
  std::vector<std::string> runs;
  std::string out = "plot.png";
  bool log_y = false;
  int width = 1000, height = 800;
};

RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<PlotArgs>();
  CLI::App* c = app.add_subcommand("plot", "Draw loss and learning-rate curves of runs to a PNG");
  c->add_option("runs", a->runs, "run folders (or metrics.jsonl files)")->required();
  c->add_option("--out,-o", a->out, "PNG to write")->capture_default_str();
  c->add_flag("--log", a->log_y, "log-scale loss axis");
  c->add_option("--width", a->width, "image width in pixels")->capture_default_str();
  c->add_option("--height", a->height, "image height in pixels")->capture_default_str();
  c->callback([a] {
    std::vector<eval::RunCurves> runs;
    for (const std::string& r : a->runs) runs.push_back(eval::read_run(r));
    eval::plot_runs(runs, a->out, {a->log_y, a->width, a->height});
    std::printf("wrote %s (%zu run%s)\n", a->out.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  });
});

}  // namespace
}  // namespace kiln::app
