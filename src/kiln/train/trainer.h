#pragma once
// The training loop: a recipe in, a model out. It logs a console line (progress, loss, lr,
// grad-norm, tokens/s, MFU, and MoE aux loss and expert use) and metrics.jsonl in the run folder,
// evaluates validation loss and samples text periodically, and writes checkpoints atomically
// (model in Hugging Face layout, optimizer, schedule position, RNG and data position), so that
// `resume` continues to the same final loss, bit for bit. A non-finite loss stops the run and
// leaves the last good checkpoint untouched.
#include <string>

#include "kiln/train/recipe.h"

namespace kiln::train {

struct TrainResult {
  int64_t steps = 0;
  double final_loss = 0, final_val_loss = 0;
  double tokens_per_second = 0;
  std::string checkpoint;  // the last checkpoint folder
  std::string sample;      // the last sampled text
};

// Runs the recipe. With resume, continues from the newest checkpoint in recipe.out_dir.
TrainResult train(const Recipe& recipe, bool resume = false);

}  // namespace kiln::train
