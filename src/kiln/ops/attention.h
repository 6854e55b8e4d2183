#pragma once
// Scaled dot-product attention, fused: softmax(q k^T * scale + bias + mask) v without a [T, S]
// score matrix per head in memory. Forward saves the log-sum-exp of each query row; backward
// recomputes the probabilities from it block by block (FlashAttention-2).
//
// Masks: causal (query i sits at absolute position q_offset + i, key j at j; keys after the query
// are masked), a sliding window (keys at or before pos - window are masked, so a query sees
// `window` keys including itself), key padding, and an additive bias (ALiBi). A query row that
// every key is masked from outputs zeros.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

struct AttentionParams {
  bool causal = true;
  double scale = 0;       // 0: 1/sqrt(D)
  int64_t window = 0;     // 0: no window
  int64_t q_offset = -1;  // -1: S - T
  Tensor bias;            // optional, broadcastable to [B, Hq, T, S]; gets no gradient
  Tensor key_padding;     // optional u8 [B, S], nonzero = masked
};

struct AttentionOut {
  Tensor out;  // [B, Hq, T, Dv]
  Tensor lse;  // [B, Hq, T], f32 (f64 for f64 inputs); +inf for fully masked rows
};
struct AttentionGrads {
  Tensor dq, dk, dv;
};

// q [B, Hq, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv], Hq a multiple of Hkv: query head h reads
// kv head h / (Hq / Hkv). Floating, one dtype; bias of the same dtype.
AttentionOut attention(const Tensor& q, const Tensor& k, const Tensor& v,
                       const AttentionParams& p = {});
AttentionGrads attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const AttentionOut& fwd,
                                  const AttentionParams& p = {});

// Kernels get checked operands and resolved params: scale > 0, q_offset >= 0, bias expanded to
// [B, Hq, T, S] (strides may be 0). q, k, v, dout have unit stride in their last dim; out, lse, dq,
// dk, dv are contiguous.
using AttentionFn = void (*)(const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionParams& p, const Tensor& out, const Tensor& lse);
using AttentionBackwardFn = void (*)(const Tensor& dout, const Tensor& q, const Tensor& k,
                                     const Tensor& v, const Tensor& out, const Tensor& lse,
                                     const AttentionParams& p, const Tensor& dq, const Tensor& dk,
                                     const Tensor& dv);
extern Kernel<AttentionFn> attention_kernel;
extern Kernel<AttentionBackwardFn> attention_backward_kernel;

namespace cpu {
void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
               const Tensor& out, const Tensor& lse);
void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& out, const Tensor& lse, const AttentionParams& p,
                        const Tensor& dq, const Tensor& dk, const Tensor& dv);
}  // namespace cpu

}  // namespace kiln::ops
