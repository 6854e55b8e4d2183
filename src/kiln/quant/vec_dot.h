#pragma once
// Dot product of one block-quantized row with an f32 vector: the inner loop of quantized matmul
// and of quantized matrix-vector products at decode time. The scalar path is the reference; AVX2
// and AVX-512 paths are chosen at run time from what the CPU supports.
#include <cstdint>

#include "kiln/core/dtype.h"

namespace kiln::quant {

// AVX512 means AVX-512 F/BW/VL with VNNI (the integer kernels use vpdpbusd); NEON is arm64's.
enum class Isa { Scalar, AVX2, AVX512, NEON };
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);  // compiled in and supported by this CPU
Isa best_isa();

// sum_i dequant(row)_i * x_i over n elements (a multiple of the type's block size).
float vec_dot(DType t, const void* row, const float* x, int64_t n);
// The same on a chosen path (tests compare each against Isa::Scalar). Throws when unsupported.
float vec_dot(DType t, const void* row, const float* x, int64_t n, Isa isa);

}  // namespace kiln::quant
