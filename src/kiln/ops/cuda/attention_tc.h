#pragma once
// The tensor-core attention forward (attention_tc.cu), used by attention.cu where it applies.
#include "kiln/ops/attention.h"

namespace kiln::cuda {

// Runs the tiled bf16 forward and returns true when the case is one it covers (bf16, head dim 64
// or 128 for both q/k and v, no bias or key padding, 16-byte aligned rows); false otherwise, with
// nothing written.
bool attention_tensor_cores(const Tensor& q, const Tensor& k, const Tensor& v,
                            const ops::AttentionParams& p, const Tensor& out, const Tensor& lse);

}  // namespace kiln::cuda
