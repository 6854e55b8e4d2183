#pragma once
// Matrix products. matmul(a, b): a [..., M, K] x b [..., K, N] -> [..., M, N] with broadcast batch
// dims; a 1-D b is a vector. linear(x, w, bias) = x w^T + bias with w [out, in], as nn.Linear.
// f32 and f64 go to BLAS; bf16/f16 are widened to f32, multiplied, and rounded once.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// Kernel: a [B, M, K], b [B, K, N] (each matrix's last two strides may be transposed, batch
// stride may be 0), out [B, M, N] contiguous. out = alpha * a b + beta * out.
using GemmFn = void (*)(const Tensor& a, const Tensor& b, const Tensor& out, float alpha,
                        float beta);
extern Kernel<GemmFn> gemm_kernel;

// out = alpha * a @ b + beta * out on 3-D operands as the kernel takes them (checked).
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha = 1.f, float beta = 0.f);

namespace cpu {
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta);
}

}  // namespace kiln::ops
