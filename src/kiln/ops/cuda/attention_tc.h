#pragma once
// The tensor-core attention kernels (attention_tc.cu, attention_tc_bwd.cu), used by attention.cu
// where they apply.
#include "kiln/ops/attention.h"

namespace kiln::cuda {

// Runs the tiled bf16 forward and returns true when the case is one it covers (bf16, head dim 64
// or 128 for both q/k and v, no bias or key padding, 16-byte aligned rows); false otherwise, with
// nothing written.
bool attention_tensor_cores(const Tensor& q, const Tensor& k, const Tensor& v,
                            const ops::AttentionParams& p, const Tensor& out, const Tensor& lse);

// The tiled bf16 backward for the same cases (dout any layout with unit stride in D); false, with
// nothing written, for the others.
bool attention_backward_tensor_cores(const Tensor& dout, const Tensor& q, const Tensor& k,
                                     const Tensor& v, const Tensor& out, const Tensor& lse,
                                     const ops::AttentionParams& p, const Tensor& dq,
                                     const Tensor& dk, const Tensor& dv);

}  // namespace kiln::cuda
