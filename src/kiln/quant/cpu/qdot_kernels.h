#pragma once
// The SIMD kernels behind qdot.h, one set per instruction set. Each is compiled for its
// instruction set whatever the build's -march and called only when the CPU reports it.
#include <cstdint>

#include "kiln/quant/blocks.h"
#include "kiln/quant/qdot.h"

namespace kiln::quant::cpu {

float idot_q8_0_avx2(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_0_avx2(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_k_avx2(const void* row, const BlockQ8A* x, int64_t nb);
float hdot_f16_avx2(const void* row, const float* x, int64_t n);
float hdot_bf16_avx2(const void* row, const float* x, int64_t n);
// n f16 values to f32 with F16C (the prefill path expands F16 weight tiles with it).
void f16_to_f32_avx2(const uint16_t* h, float* out, int64_t n);

float idot_q8_0_avx512(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_0_avx512(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_k_avx512(const void* row, const BlockQ8A* x, int64_t nb);
float hdot_f16_avx512(const void* row, const float* x, int64_t n);
float hdot_bf16_avx512(const void* row, const float* x, int64_t n);

void igemm_q8_0_avx512(const void* w, size_t row_bytes, int64_t r0, int64_t r1, const BlockQ8A* x,
                       int64_t m, int64_t nb, float* y, int64_t ldy);
void igemm_q4_0_avx512(const void* w, size_t row_bytes, int64_t r0, int64_t r1, const BlockQ8A* x,
                       int64_t m, int64_t nb, float* y, int64_t ldy);
void quantize_act_avx512(const float* x, BlockQ8A* out, int64_t n);

float idot_q8_0_neon(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_0_neon(const void* row, const BlockQ8A* x, int64_t nb);
float idot_q4_k_neon(const void* row, const BlockQ8A* x, int64_t nb);

}  // namespace kiln::quant::cpu
