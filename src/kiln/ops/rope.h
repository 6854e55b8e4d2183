#pragma once
// Rotary position embedding in the rotate-half layout of Hugging Face Llama/Qwen. With
// h = cos.size(-1) and R = 2h rotary dims (R <= D; dims R.. pass through: partial rotary), for
// i < h: out[i] = x[i] cos[i] - x[i+h] sin[i], out[i+h] = x[i+h] cos[i] + x[i] sin[i].
// Computed in f32 (f64 for f64 x) and rounded once.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

// x [B, H, T, D], any strides; cos, sin [B or 1, T, h] of any floating dtype.
Tensor rope(const Tensor& x, const Tensor& cos, const Tensor& sin);
// The rotation is orthogonal: the gradient of x is dy rotated by the opposite angle.
Tensor rope_backward(const Tensor& dy, const Tensor& cos, const Tensor& sin);

// Kernel: x has unit stride in D; cos and sin are contiguous in the compute type (f32, f64 for f64
// x); out is contiguous. inverse rotates by the opposite angle.
using RopeFn = void (*)(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse,
                        const Tensor& out);
extern Kernel<RopeFn> rope_kernel;

namespace cpu {
void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse, const Tensor& out);
}

}  // namespace kiln::ops
