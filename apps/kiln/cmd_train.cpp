// kiln train --config RECIPE.yaml [key=value ...] [--resume] [--device cuda]
#include <cstdio>

#include "command.h"
#include "kiln/train/trainer.h"

namespace kiln::app {
namespace {

RegisterCommand reg([](CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    bool resume = false;
    std::string device;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("train", "train a model from a YAML recipe (configs/train/*.yaml)");
  c->add_option("--config", a->config, "recipe file")->required();
  c->add_flag("--resume", a->resume, "continue from the newest checkpoint in the run folder");
  c->add_option("--device", a->device, "cpu, cuda or cuda:N (the recipe's `device` key)");
  c->add_option("overrides", a->overrides, "recipe keys to override, as key=value");
  c->callback([a] {
    std::vector<std::string> overrides = a->overrides;
    if (!a->device.empty()) overrides.push_back("device=" + a->device);
    auto recipe = train::Recipe::load(a->config, overrides);
    auto r = train::train(recipe, a->resume);
    std::printf(
        "trained %lld steps: loss %.4f, validation loss %.4f, %.0f tokens/s\ncheckpoint: %s\n",
        (long long)r.steps, r.final_loss, r.final_val_loss, r.tokens_per_second,
        r.checkpoint.c_str());
  });
});

}  // namespace
}  // namespace kiln::app
