#pragma once
// Block-quantized weight formats, laid out byte for byte as GGUF files and llama.cpp store them,
// with reference (scalar) quantize and dequantize of one row. A row of n elements is n / block
// elements blocks in a row; n must be a multiple of the block size.
//
//   Q8_0: 32 elements in 34 bytes: f16 scale d, 32 int8 q.            x = d * q
//   Q4_0: 32 elements in 18 bytes: f16 scale d, 16 bytes of nibbles;   x = d * (q - 8)
//         element i < 16 is the low nibble of byte i, element 16 + i its high nibble.
//   Q4_K: 256 elements in 144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for the
//         eight 32-element sub-blocks, 128 bytes of nibbles.       x = d * sc[j] * q - dmin * m[j]
//         Each 64 elements share 32 bytes: the first 32 in the low nibbles, the next 32 in the
//         high.
#include <cstdint>

#include "kiln/core/dtype.h"

namespace kiln::quant {

constexpr int64_t kQ8_0Block = 32;
constexpr int64_t kQ4_0Block = 32;
constexpr int64_t kQ4_KBlock = 256;

struct BlockQ8_0 {
  uint16_t d;  // f16 bits
  int8_t qs[32];
};
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_K) == 144,
              "block layouts must match GGUF");

// Q8_0: d = max|x| / 127, q = round(x / d).
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
// Q4_0: d = m / -8 where m is the element of largest magnitude (sign kept), q = round(x / d + 8)
// clamped to [0, 15], so m itself is exactly q = 0.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
// Q4_K: per sub-block a scale and a non-negative min fitted by least squares over a grid of
// candidate ranges, then the eight of each quantized to 6 bits against the super-block's d, dmin.
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);

// The 12-byte Q4_K scale field: sub-blocks 0-3 keep their 6-bit scale and min in the low 6 bits of
// bytes 0-3 and 4-7; sub-blocks 4-7 keep their low 4 bits in bytes 8-11 (scale low, min high) and
// their top 2 bits in the top 2 bits of bytes 0-3 (scale) and 4-7 (min).
void pack_q4_k_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]);
void unpack_q4_k_scales(const uint8_t in[12], uint8_t sc[8], uint8_t m[8]);

// By dtype, on raw block bytes. n must be a multiple of the dtype's block size.
void quantize_row(DType t, const float* x, void* y, int64_t n);
void dequantize_row(DType t, const void* x, float* y, int64_t n);

}  // namespace kiln::quant
