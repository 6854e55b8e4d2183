#pragma once
// The SIMD vec_dot kernels, one set per instruction set; each takes a count of blocks.
#include <cstdint>

#include "kiln/quant/blocks.h"

namespace kiln::quant::cpu {

float dot_q8_0_avx2(const BlockQ8_0* b, const float* x, int64_t nb);
float dot_q4_0_avx2(const BlockQ4_0* b, const float* x, int64_t nb);
float dot_q4_k_avx2(const BlockQ4_K* b, const float* x, int64_t nb);

float dot_q8_0_avx512(const BlockQ8_0* b, const float* x, int64_t nb);
float dot_q4_0_avx512(const BlockQ4_0* b, const float* x, int64_t nb);
float dot_q4_k_avx512(const BlockQ4_K* b, const float* x, int64_t nb);

}  // namespace kiln::quant::cpu
