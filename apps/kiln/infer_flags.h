#pragma once
// Flags and helpers shared by the commands that run a model (generate, chat, perplexity).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/infer/generator.h"
#include "kiln/infer/speculative.h"

namespace kiln::app {

// The model and tokenizer flags every inference command takes.
struct ModelFlags {
  std::string model, tokenizer, dtype = "f32";
  uint64_t init_seed = 0;
  int64_t ctx = 0;
};
void add_model_flags(CLI::App* cmd, ModelFlags& f);

// --max-tokens, --temperature, --top-k, ..., --stop: generation's options.
void add_generation_flags(CLI::App* cmd, infer::GenerateOptions& o);

// One line for --stats (stderr).
std::string stats_line(const infer::GenerateStats& s, infer::FinishReason finish);
// The second --stats line of a speculative run.
std::string speculative_stats_line(const infer::SpeculativeStats& s);

}  // namespace kiln::app
