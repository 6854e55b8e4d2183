#pragma once
// Products with packed weights kept as they were loaded (memory-mapped GGUF tensors): y = x W^T
// for W [N, K] of Q8_0, Q4_0, Q4_K, F16 or BF16 and an f32 x [..., K], and row gathers for
// embeddings. Inference only: no gradient flows through these.
//
// Few rows (decode): each activation row is quantized to 8-bit blocks once and every weight row
// is an integer dot product (qdot.h), output rows split over the thread pool; F16/BF16 rows are
// converted on the fly against the f32 activation. Many rows (prefill): tiles of W are expanded
// to f32 and multiplied by BLAS SGEMM, which is faster there than one dot per (row, row) pair.
#include "kiln/core/tensor.h"
#include "kiln/quant/vec_dot.h"

namespace kiln::quant {

// Weight types these products take.
bool is_packed_weight(DType t);

// x [..., K] f32 on the CPU, w [N, K] contiguous, bias [N] f32 or undefined -> [..., N] f32.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());
// The same on a chosen instruction set, using SGEMM from `gemm_rows` rows of x up (tests pick
// both paths).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Isa isa, int64_t gemm_rows);

// Rows of w [V, D] picked by ids (i32/i64, any shape), expanded to f32 -> [..., D]. Only the
// looked-up rows are read. Throws for an id outside [0, V).
Tensor embedding(const Tensor& w, const Tensor& ids);

}  // namespace kiln::quant
