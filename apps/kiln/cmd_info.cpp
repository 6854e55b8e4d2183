// kiln info --model PRESET_OR_DIR: parameters, FLOPs, KV cache and memory of a model.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "kiln/models/info.h"
#include "kiln/models/open_model.h"

namespace kiln::app {
namespace {

struct InfoArgs {
  std::string model;
  int64_t context = 4096;
  int64_t train_tokens = 8192;
  bool json = false;
};

RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Parameters, FLOPs, KV cache and memory of a model");
  cmd->add_option("--model", args->model, "preset name, .yaml file or Hugging Face folder")
      ->required();
  cmd->add_option("--context", args->context, "context length for attention FLOPs and KV cache")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--train-tokens", args->train_tokens,
                  "tokens per micro-batch for the activation estimate")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args] {
    models::ModelConfig c = models::load_config(args->model);
    if (args->json)
      std::printf("%s\n", models::info_json(c, args->context, args->train_tokens).dump(2).c_str());
    else
      std::printf("%s", models::info_text(c, args->context, args->train_tokens).c_str());
  });
});

}  // namespace
}  // namespace kiln::app
