// Block layouts checked byte by byte on hand-computed blocks, and exact round trips of values the
// formats represent exactly.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "kiln/core/half.h"
#include "kiln/quant/blocks.h"

namespace kiln::quant {
namespace {

template <class B>
std::vector<uint8_t> bytes_of(const B& b) {
  std::vector<uint8_t> v(sizeof(B));
  std::memcpy(v.data(), &b, sizeof(B));
  return v;
}

TEST(QuantBlocks, Q8_0LayoutByHand) {
  // max |x| = 127, so d = 1 (f16 0x3c00) and q = round(x), halves away from zero.
  float x[32] = {-127.f, 1.4f, 2.5f, -2.5f, 0.49f, 126.6f};
  BlockQ8_0 b;
  quantize_row_q8_0(x, &b, 32);
  std::vector<uint8_t> want(34, 0);
  want[0] = 0x00, want[1] = 0x3c;  // d, little-endian f16
  want[2] = 0x81;                  // -127
  want[3] = 1, want[4] = 3, want[5] = 0xfd /* -3 */, want[6] = 0, want[7] = 127;
  EXPECT_EQ(bytes_of(b), want);
  float y[32];
  dequantize_row_q8_0(&b, y, 32);
  EXPECT_EQ(y[0], -127.f);
  EXPECT_EQ(y[2], 3.f);
  EXPECT_EQ(y[3], -3.f);
  EXPECT_EQ(y[5], 127.f);
  EXPECT_EQ(y[31], 0.f);
}

TEST(QuantBlocks, Q4_0LayoutByHand) {
  // The largest magnitude is -8, so d = -8 / -8 = 1 and q = x + 8 (clamped to 15).
  float x[32] = {};
  x[0] = -8.f;    // q 0
  x[1] = 0.f;     // q 8
  x[2] = 7.6f;    // 16.1, clamped to 15
  x[16] = 7.f;    // q 15
  x[17] = 3.4f;   // 11.4 -> 11
  x[18] = -2.5f;  // 5.5 -> 6 (rounds half up)
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32);
  std::vector<uint8_t> want(18, 0x88);  // zeros are q 8 in both nibbles
  want[0] = 0x00, want[1] = 0x3c;
  want[2] = 0xf0;  // element 0 low (0), element 16 high (15)
  want[3] = 0xb8;  // element 1 low (8), element 17 high (11)
  want[4] = 0x6f;  // element 2 low (15), element 18 high (6)
  EXPECT_EQ(bytes_of(b), want);
  float y[32];
  dequantize_row_q4_0(&b, y, 32);
  EXPECT_EQ(y[0], -8.f);
  EXPECT_EQ(y[2], 7.f);
  EXPECT_EQ(y[16], 7.f);
  EXPECT_EQ(y[17], 3.f);
  EXPECT_EQ(y[18], -2.f);
}

TEST(QuantBlocks, Q4_0PositiveExtremeFlipsTheScale) {
  // A positive extreme gives a negative d: +4 is q 0 exactly, -4 lands on q 15 = -3.5.
  float x[32] = {4.f, -4.f};
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32);
  EXPECT_EQ(b.d, 0xb800);  // f16 -0.5
  EXPECT_EQ(b.qs[0] & 0xf, 0);
  EXPECT_EQ(b.qs[1] & 0xf, 15);
  float y[32];
  dequantize_row_q4_0(&b, y, 32);
  EXPECT_EQ(y[0], 4.f);
  EXPECT_EQ(y[1], -3.5f);
}

TEST(QuantBlocks, Q4_KScalePackingByHand) {
  const uint8_t sc[8] = {1, 2, 3, 4, 33, 50, 63, 17};
  const uint8_t m[8] = {5, 6, 7, 8, 40, 20, 63, 1};
  uint8_t packed[12];
  pack_q4_k_scales(sc, m, packed);
  const uint8_t want[12] = {0x81, 0xc2, 0xc3, 0x44, 0x85, 0x46, 0xc7, 0x08, 0x81, 0x42, 0xff, 0x11};
  EXPECT_EQ(std::vector<uint8_t>(packed, packed + 12), std::vector<uint8_t>(want, want + 12));
  std::mt19937 rng(5);
  for (int t = 0; t < 1000; ++t) {
    uint8_t s2[8], m2[8], s3[8], m3[8], p[12];
    for (int j = 0; j < 8; ++j) s2[j] = uint8_t(rng() % 64), m2[j] = uint8_t(rng() % 64);
    pack_q4_k_scales(s2, m2, p);
    unpack_q4_k_scales(p, s3, m3);
    ASSERT_EQ(std::memcmp(s2, s3, 8), 0);
    ASSERT_EQ(std::memcmp(m2, m3, 8), 0);
  }
}

TEST(QuantBlocks, Q4_KDequantizeByHand) {
  BlockQ4_K b{};
  b.d = 0x3800;     // 0.5
  b.dmin = 0x3400;  // 0.25
  const uint8_t sc[8] = {1, 2, 3, 4, 33, 50, 63, 17};
  const uint8_t m[8] = {5, 6, 7, 8, 40, 20, 63, 1};
  pack_q4_k_scales(sc, m, b.scales);
  b.qs[0] = 0x3a;    // element 0 (sub-block 0, q 10) and element 32 (sub-block 1, q 3)
  b.qs[104] = 0x07;  // element 200 (sub-block 6, q 7); element 232 gets q 0
  b.qs[127] = 0xf0;  // element 255 (sub-block 7, q 15)
  float y[256];
  dequantize_row_q4_k(&b, y, 256);
  EXPECT_EQ(y[0], 0.5f * 1 * 10 - 0.25f * 5);
  EXPECT_EQ(y[32], 0.5f * 2 * 3 - 0.25f * 6);
  EXPECT_EQ(y[1], -0.25f * 5);
  EXPECT_EQ(y[200], 0.5f * 63 * 7 - 0.25f * 63);
  EXPECT_EQ(y[232], -0.25f * 1);
  EXPECT_EQ(y[255], 0.5f * 17 * 15 - 0.25f * 1);
  EXPECT_EQ(y[127], 0.5f * 4 * 0 - 0.25f * 8);
}

TEST(QuantBlocks, RepresentableValuesRoundTripExactly) {
  std::mt19937 rng(11);
  // Q8_0: x = d * q with d an f16 value and one |q| = 127.
  float x8[64];
  for (int i = 0; i < 64; ++i) x8[i] = 0.03125f * float(int(rng() % 255) - 127);
  x8[0] = 0.03125f * 127, x8[40] = -0.03125f * 127;
  BlockQ8_0 b8[2];
  float y8[64];
  quantize_row_q8_0(x8, b8, 64);
  dequantize_row_q8_0(b8, y8, 64);
  EXPECT_EQ(std::vector<float>(y8, y8 + 64), std::vector<float>(x8, x8 + 64));
  // Q4_0: x = d * (q - 8) with the extreme at -8 d.
  float x4[32];
  for (int i = 0; i < 32; ++i) x4[i] = 0.25f * float(int(rng() % 16) - 8);
  x4[5] = -2.f;
  BlockQ4_0 b4;
  float y4[32];
  quantize_row_q4_0(x4, &b4, 32);
  dequantize_row_q4_0(&b4, y4, 32);
  EXPECT_EQ(std::vector<float>(y4, y4 + 32), std::vector<float>(x4, x4 + 32));
  // Q4_K: x = 0.125 sc[j] q - 0.0625 m[j], each sub-block using q 0 and 15, the largest sc and
  // m 63.
  const int sc[8] = {63, 32, 16, 8, 4, 2, 1, 40}, m[8] = {0, 63, 10, 1, 5, 33, 2, 0};
  float xk[256];
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 32; ++i) {
      int q = i == 0 ? 0 : i == 1 ? 15 : int(rng() % 16);
      xk[32 * j + i] = 0.125f * float(sc[j] * q) - 0.0625f * float(m[j]);
    }
  BlockQ4_K bk;
  float yk[256];
  quantize_row_q4_k(xk, &bk, 256);
  dequantize_row_q4_k(&bk, yk, 256);
  EXPECT_EQ(bk.d, f16::from_float(0.125f));
  EXPECT_EQ(bk.dmin, f16::from_float(0.0625f));
  EXPECT_EQ(std::vector<float>(yk, yk + 256), std::vector<float>(xk, xk + 256));
}

TEST(QuantBlocks, ZeroBlocksStayZero) {
  float x[256] = {};
  float y[256];
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
    std::vector<uint8_t> q(dtype_nbytes(t, 256));
    quantize_row(t, x, q.data(), 256);
    dequantize_row(t, q.data(), y, 256);
    for (float v : y) ASSERT_EQ(v, 0.f) << dtype_name(t);
  }
}

}  // namespace
}  // namespace kiln::quant
