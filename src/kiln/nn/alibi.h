#pragma once
// ALiBi (Press et al. 2022): no position embedding; each head adds slope_h * (key_pos - query_pos)
// to its attention scores. Slopes are the geometric sequence 2^(-8i/n) for n a power of two; for
// other head counts the closest lower power of two gives the first slopes and the odd terms of the
// sequence for twice that many fill the rest.
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::nn {

std::vector<float> alibi_slopes(int64_t n_heads);
// [1, H, T, S] of dtype dt: queries at positions q_offset .. q_offset + T - 1, keys at 0 .. S - 1.
Tensor alibi_bias(const std::vector<float>& slopes, int64_t t, int64_t s, int64_t q_offset,
                  DType dt);

}  // namespace kiln::nn
