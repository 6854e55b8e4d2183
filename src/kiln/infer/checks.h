#pragma once
// The checks every front end (the Engine, the server's Scheduler) makes of what it is asked to
// generate, so a bad request gets the same kiln::Error wherever it arrives.
#include <cstdint>
#include <span>

#include "kiln/infer/generator.h"

namespace kiln::infer {

// A prompt must have at least one token, leave room in `context` for one new token, and hold
// only ids in [0, vocab_size).
void check_prompt(std::span<const int32_t> prompt, int64_t context, int64_t vocab_size);
// Sampling parameters, max_tokens > 0, and stop strings non-empty and decodable (a tokenizer).
void check_options(const GenerateOptions& o, bool has_tokenizer);

// The sampling parameters to generate with: `p`, limited to the tokenizer's ids when the model's
// vocabulary is larger (a padded embedding), so every generated id can be decoded.
SamplingParams decodable(SamplingParams p, const tokenizer::Tokenizer* tok, int64_t vocab_size);

}  // namespace kiln::infer
