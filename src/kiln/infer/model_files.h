#pragma once
// What generation needs from a model's folder besides the weights: its tokenizer and the ids
// that end a turn.
#include <optional>
#include <string>
#include <vector>

#include "kiln/models/config.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::infer {

// `tokenizer` when given; else the model's folder when it holds tokenizer.json (Hugging Face
// folders and kiln's trainer checkpoints do); else none (a preset, or weights without one).
std::optional<tokenizer::Tokenizer> model_tokenizer(const std::string& model,
                                                    const std::string& tokenizer = "");

// Ids that stop generation: eos_token_id of the folder's generation_config.json (an id or a
// list), of config.json, and the tokenizer's EOS; without duplicates.
std::vector<int32_t> stop_token_ids(const std::string& model, const models::ModelConfig& c,
                                    const tokenizer::Tokenizer* tok);

}  // namespace kiln::infer
