#pragma once
// Integer dot products of one weight row with an activation row quantized to 8 bits: the inner
// loop of quantized matrix-vector products at decode time. The activation is cut into 32-element
// blocks, each with its own f32 scale (x ~ d * q, q in [-127, 127]) and the sum of its q, so a
// weight block's dot product is one integer dot product of bytes scaled once (the way llama.cpp
// pairs its weight formats with 8-bit activations). F16 and BF16 weight rows take the f32
// activation as it is.
//
// The scalar kernels are the reference; AVX2 (maddubs), AVX-512 VNNI (vpdpbusd) and NEON kernels
// compute the same integer block sums and differ from it only in the order of f32 additions.
#include <cstddef>
#include <cstdint>

#include "kiln/core/dtype.h"
#include "kiln/quant/vec_dot.h"

namespace kiln::quant {

constexpr int64_t kActBlock = 32;

struct BlockQ8A {
  int8_t q[32];
  float d;      // scale
  int32_t sum;  // sum of q (the zero-point terms of Q4_0 and Q4_K need it)
};
static_assert(sizeof(BlockQ8A) == 40);

// x (n elements, a multiple of 32) -> n / 32 blocks. d = max|x| / 127, q = round(x / d).
// Every path gives the same blocks bit for bit.
void quantize_act(const float* x, BlockQ8A* out, int64_t n);
void quantize_act(const float* x, BlockQ8A* out, int64_t n, Isa isa);

// One weight row of type Q8_0, Q4_0 or Q4_K (nb activation blocks long) against a quantized
// activation row.
using IntDotFn = float (*)(const void* row, const BlockQ8A* x, int64_t nb);
// One F16 or BF16 weight row (n elements, any n) against an f32 activation row.
using HalfDotFn = float (*)(const void* row, const float* x, int64_t n);

// Weight rows [r0, r1) (row_bytes apart) against m activation rows (nb blocks each, one after the
// other): y[i * ldy + r] for i < m. Works in register tiles of several rows of each (prefill,
// batched decode); a pair's result is the same bit for bit whatever m and [r0, r1) are, so one
// row alone gets what it gets among others.
using IntGemmFn = void (*)(const void* w, size_t row_bytes, int64_t r0, int64_t r1,
                           const BlockQ8A* x, int64_t m, int64_t nb, float* y, int64_t ldy);

// The kernel for a weight type on a path; throws for other types or an unsupported path.
IntDotFn int_dot(DType t, Isa isa);
// The tiled kernel, or null where the path has none for the type (then: int_dot row by row).
IntGemmFn int_gemm(DType t, Isa isa);
HalfDotFn half_dot(DType t, Isa isa);
// Whether a weight of this type takes quantized activations (Q8_0, Q4_0, Q4_K).
bool takes_int_act(DType t);

}  // namespace kiln::quant
