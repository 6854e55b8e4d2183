// Q8_0 and Q4_0 weights against 8-bit activations with AVX-512 VNNI, several rows of each at once
// (qdot.h's IntGemmFn): the prefill product on integers, with no f32 copy of the weights.
//
// Each 32-bit lane of a register belongs to one weight row: a panel of 16 weight rows is
// transposed once per pass into 8 registers per block (register t holds bytes 4t..4t+3 of the
// block of every row), and each activation row's 4 bytes are broadcast to all lanes, so one
// vpdpbusd is 64 multiply-adds with nothing to sum across lanes afterwards and the 16 results of
// an activation row are stored as one vector. Up to 8 activation rows share the panel's
// registers. (The earlier tiles put two blocks of one row in a register and summed the lanes at
// the end: three times the instructions per multiply-add.)
//
// Both formats become unsigned bytes times signed bytes, with the offset taken back exactly in
// the integer sum: Q4_0's nibbles are q + 8, so each block's sum starts at -8 sum(x); Q8_0's bytes
// are flipped to w + 128, so it starts at -128 sum(x). Every (activation row, weight row) pair
// runs the same instructions in the same order whatever the panel and tile it sits in, so a row's
// result does not depend on the rows beside it.
#include "kiln/quant/cpu/qdot_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kiln/core/error.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 flags the _mm*_undefined_* placeholders inside its own intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define KILN_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma,avx2")))
#endif

namespace kiln::quant::cpu {

#if defined(__x86_64__)

namespace {

constexpr int kPanel = 16;  // weight rows per panel: one per 32-bit lane

// One block of a panel as the tiles read it.
struct alignas(64) PanelBlock {
  __m512i u[8];  // u[t], lane j: unsigned bytes 4t..4t+3 of weight row j's block
  __m512 dw;     // lane j: the block's scale in row j
};

// 16 rows of 16 bytes (p[j]) -> out[t], lane j = bytes 4t..4t+3 of row j.
KILN_VNNI inline void transpose_16x16(const uint8_t* const p[kPanel], __m512i out[4]) {
  __m512i z[4];
  for (int q = 0; q < 4; ++q) {  // z[q]: rows 4q..4q+3, one per 128-bit lane
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p[4 * q])));
    for (int r = 1; r < 4; ++r) {
      __m128i row = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[4 * q + r]));
      switch (r) {  // the lane must be an immediate
        case 1:
          v = _mm512_inserti32x4(v, row, 1);
          break;
        case 2:
          v = _mm512_inserti32x4(v, row, 2);
          break;
        default:
          v = _mm512_inserti32x4(v, row, 3);
      }
    }
    // Dword 4r + t (row r, bytes 4t..) -> 4t + r: 128-bit lane t now holds dword t of the 4 rows.
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    z[q] = _mm512_permutexvar_epi32(idx, v);
  }
  // A 4x4 transpose of 128-bit lanes across the four registers.
  __m512i a = _mm512_shuffle_i64x2(z[0], z[1], _MM_SHUFFLE(1, 0, 1, 0));
  __m512i b = _mm512_shuffle_i64x2(z[0], z[1], _MM_SHUFFLE(3, 2, 3, 2));
  __m512i c = _mm512_shuffle_i64x2(z[2], z[3], _MM_SHUFFLE(1, 0, 1, 0));
  __m512i d = _mm512_shuffle_i64x2(z[2], z[3], _MM_SHUFFLE(3, 2, 3, 2));
  out[0] = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(2, 0, 2, 0));
  out[1] = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(3, 1, 3, 1));
  out[2] = _mm512_shuffle_i64x2(b, d, _MM_SHUFFLE(2, 0, 2, 0));
  out[3] = _mm512_shuffle_i64x2(b, d, _MM_SHUFFLE(3, 1, 3, 1));
}

// The 16 rows' f16 scales at p[j] as f32 lanes.
KILN_VNNI inline __m512 scales(const uint8_t* const p[kPanel]) {
  alignas(32) uint16_t h[kPanel];
  for (int j = 0; j < kPanel; ++j) std::memcpy(&h[j], p[j], 2);
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h)));
}

struct Q4_0Weights {
  using Block = BlockQ4_0;
  static constexpr int kOffset = 8;
  // Elements 0-15 are the low nibbles of qs[0..15], 16-31 the high ones.
  KILN_VNNI static void unpack(const uint8_t* const blk[kPanel], PanelBlock& out) {
    const uint8_t* qs[kPanel];
    for (int j = 0; j < kPanel; ++j) qs[j] = blk[j] + offsetof(BlockQ4_0, qs);
    __m512i t[4];
    transpose_16x16(qs, t);
    const __m512i lo = _mm512_set1_epi8(0x0F);
    for (int i = 0; i < 4; ++i) {
      out.u[i] = _mm512_and_si512(t[i], lo);
      out.u[i + 4] = _mm512_and_si512(_mm512_srli_epi32(t[i], 4), lo);
    }
    out.dw = scales(blk);
  }
};
struct Q8_0Weights {
  using Block = BlockQ8_0;
  static constexpr int kOffset = 128;
  KILN_VNNI static void unpack(const uint8_t* const blk[kPanel], PanelBlock& out) {
    const uint8_t* qs[kPanel];
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    for (int half = 0; half < 2; ++half) {
      for (int j = 0; j < kPanel; ++j) qs[j] = blk[j] + offsetof(BlockQ8_0, qs) + 16 * half;
      __m512i t[4];
      transpose_16x16(qs, t);
      for (int i = 0; i < 4; ++i) out.u[4 * half + i] = _mm512_xor_si512(t[i], flip);  // w + 128
    }
    out.dw = scales(blk);
  }
};

// RM activation rows (x, nb blocks each) by one panel (pk: nb blocks) into y (rows ldy apart;
// only the lanes in `keep` are weight rows).
template <int RM>
KILN_VNNI void tile(const PanelBlock* pk, int offset, const BlockQ8A* x, int64_t nb, float* y,
                    int64_t ldy, __mmask16 keep) {
  __m512 acc[RM];
  for (int i = 0; i < RM; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const PanelBlock& p = pk[b];
    for (int i = 0; i < RM; ++i) {
      const BlockQ8A& a = x[i * nb + b];
      int32_t q[8];
      std::memcpy(q, a.q, sizeof q);
      __m512i s = _mm512_set1_epi32(-offset * a.sum);
      for (int t = 0; t < 8; ++t) s = _mm512_dpbusd_epi32(s, p.u[t], _mm512_set1_epi32(q[t]));
      acc[i] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(p.dw, _mm512_set1_ps(a.d)), acc[i]);
    }
  }
  for (int i = 0; i < RM; ++i) _mm512_mask_storeu_ps(y + i * ldy, keep, acc[i]);
}

using TileFn = void (*)(const PanelBlock*, int, const BlockQ8A*, int64_t, float*, int64_t,
                        __mmask16);
constexpr int kTileRows = 8;
constexpr TileFn kTiles[kTileRows + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>,
                                          tile<5>, tile<6>, tile<7>, tile<8>};

// Activation rows per pass over the panels: their blocks (40 bytes per 32 elements) stay in L2
// while each panel meets all of them.
constexpr int64_t kPassRows = 64;

template <class W>
KILN_VNNI void gemm(const void* w, size_t row_bytes, int64_t r0, int64_t r1, const BlockQ8A* x,
                    int64_t m, int64_t nb, float* y, int64_t ldy) {
  thread_local std::vector<PanelBlock> buf;
  if (buf.size() < size_t(nb)) buf.resize(size_t(nb));
  PanelBlock* pk = buf.data();
  const auto* base = static_cast<const uint8_t*>(w);
  for (int64_t i0 = 0; i0 < m; i0 += kPassRows) {
    int64_t i1 = std::min(m, i0 + kPassRows);
    for (int64_t r = r0; r < r1; r += kPanel) {
      int rn = int(std::min<int64_t>(kPanel, r1 - r));
      // Lanes past the last row repeat the panel's first row; their results are not stored.
      const uint8_t* rows[kPanel];
      for (int j = 0; j < kPanel; ++j) rows[j] = base + size_t(r + (j < rn ? j : 0)) * row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk[kPanel];
        for (int j = 0; j < kPanel; ++j) blk[j] = rows[j] + size_t(b) * sizeof(typename W::Block);
        W::unpack(blk, pk[b]);
      }
      auto keep = __mmask16((1u << rn) - 1);
      for (int64_t i = i0; i < i1; i += kTileRows) {
        int rm = int(std::min<int64_t>(kTileRows, i1 - i));
        kTiles[rm](pk, W::kOffset, x + i * nb, nb, y + i * ldy + r, ldy, keep);
      }
    }
  }
}

}  // namespace

KILN_VNNI void igemm_q8_0_avx512(const void* w, size_t row_bytes, int64_t r0, int64_t r1,
                                 const BlockQ8A* x, int64_t m, int64_t nb, float* y, int64_t ldy) {
  gemm<Q8_0Weights>(w, row_bytes, r0, r1, x, m, nb, y, ldy);
}

KILN_VNNI void igemm_q4_0_avx512(const void* w, size_t row_bytes, int64_t r0, int64_t r1,
                                 const BlockQ8A* x, int64_t m, int64_t nb, float* y, int64_t ldy) {
  gemm<Q4_0Weights>(w, row_bytes, r0, r1, x, m, nb, y, ldy);
}

// quantize_act with the same arithmetic: max |x|, d = max / 127, q = x * (1 / d) rounded to
// nearest even (the MXCSR default, as nearbyint), so the blocks match the scalar ones bit for bit.
KILN_VNNI void quantize_act_avx512(const float* x, BlockQ8A* out, int64_t n) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int64_t b = 0; b < n / kActBlock; ++b, x += kActBlock) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask)));
    float d = amax / 127.f, inv = d > 0.f ? 1.f / d : 0.f;
    __m512 s = _mm512_set1_ps(inv);
    __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, s));
    __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].q), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].q + 16), _mm512_cvtsepi32_epi8(q1));
    out[b].d = d;
    out[b].sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  }
}

#else

void igemm_q8_0_avx512(const void*, size_t, int64_t, int64_t, const BlockQ8A*, int64_t, int64_t,
                       float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
}
void igemm_q4_0_avx512(const void*, size_t, int64_t, int64_t, const BlockQ8A*, int64_t, int64_t,
                       float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
}
void quantize_act_avx512(const float*, BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
}

#endif

}  // namespace kiln::quant::cpu
