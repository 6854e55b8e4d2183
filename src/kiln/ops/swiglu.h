#pragma once
// SwiGLU, the gated FFN activation: swiglu(gate, up) = silu(gate) * up, fused with its backward.
// For bf16/f16 silu(gate) is rounded to the input type before the product, as Hugging Face's
// act_fn(gate_proj(x)) * up_proj(x) does.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

struct SwigluGrads {
  Tensor dgate, dup;
};

// gate and up of one shape and dtype (no broadcasting): rows of the last dim may have any stride,
// so the two halves of one fused gate_up projection are taken without a copy.
Tensor swiglu(const Tensor& gate, const Tensor& up);
// Computes only the gradients asked for; the others are left undefined.
SwigluGrads swiglu_backward(const Tensor& dy, const Tensor& gate, const Tensor& up, bool need_dgate,
                            bool need_dup);

// Kernels see every operand as [rows, F] with unit stride in F (row strides may differ); outputs
// are contiguous; undefined gradients are not wanted.
using SwigluFn = void (*)(const Tensor& gate, const Tensor& up, const Tensor& y);
using SwigluBackwardFn = void (*)(const Tensor& dy, const Tensor& gate, const Tensor& up,
                                  const Tensor& dgate, const Tensor& dup);
extern Kernel<SwigluFn> swiglu_kernel;
extern Kernel<SwigluBackwardFn> swiglu_backward_kernel;

namespace cpu {
void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y);
void swiglu_backward(const Tensor& dy, const Tensor& gate, const Tensor& up, const Tensor& dgate,
                     const Tensor& dup);
}  // namespace cpu

}  // namespace kiln::ops
