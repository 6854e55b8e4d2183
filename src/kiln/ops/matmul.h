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

// Batch-invariant mode, for continuous batching: while a guard lives on this thread, f32
// products x w^T (what linear() computes) sum every output element in one fixed order whatever
// the number of rows, so a sequence's logits do not depend on the batch it is decoded in. BLAS
// does not promise that: OpenBLAS takes gemv for one row and differently blocked gemm kernels
// for more. Other shapes and dtypes keep the BLAS path.
class BatchInvariantGuard {
 public:
  BatchInvariantGuard();
  ~BatchInvariantGuard();
  BatchInvariantGuard(const BatchInvariantGuard&) = delete;
  BatchInvariantGuard& operator=(const BatchInvariantGuard&) = delete;
};
bool batch_invariant();

namespace cpu {
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta);
// The batch-invariant kernel (also the one for 2-8 rows, where it reads each weight row once for
// all of them); false (nothing done) for operands it does not take.
bool gemm_rows(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta);
}  // namespace cpu

}  // namespace kiln::ops
