#pragma once
// Text samples during training: temperature sampling with a dense KV cache, seeded.
#include <cstdint>
#include <vector>

#include "kiln/core/rng.h"
#include "kiln/models/decoder.h"

namespace kiln::train {

// Continues `prompt` by `n` tokens; temperature 0 is greedy. Returns the new ids. When the
// context reaches `max_context` (the length the model was trained on), the cache restarts from
// the last half of it, so positions never leave the range the model has seen.
std::vector<int32_t> sample_tokens(models::Decoder& m, const std::vector<int32_t>& prompt,
                                   int64_t n, double temperature, Generator& g,
                                   int64_t max_context);

}  // namespace kiln::train
