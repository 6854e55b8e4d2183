#pragma once
// The forward every incremental decoder here runs: feed some ids (one sequence, after what the
// cache holds) and keep only the last position's logits, which choose the next token.
#include <cstdint>
#include <span>
#include <vector>

#include "kiln/models/decoder.h"
#include "kiln/nn/kv_cache.h"

namespace kiln::infer {

// Feeds `ids` (at least one) through `model` with `cache`; returns the last position's logits.
std::vector<float> last_logits(models::Decoder& model, std::span<const int32_t> ids,
                               nn::KvCache* cache);

}  // namespace kiln::infer
