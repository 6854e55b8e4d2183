// Q8_0 and Q4_0 weights against 8-bit activations with AVX-512 VNNI, several rows of each at once
// (qdot.h's IntGemmFn). A tile of up to 4 activation rows by 4 weight rows keeps 16 accumulators
// in registers, so each weight block is unpacked once for 4 activation rows and each activation
// block is loaded once for 4 weight rows; prefill then runs on integer products instead of
// expanding the weights to f32 for SGEMM.
//
// Both formats become unsigned bytes times signed bytes (vpdpbusd), with the offset taken back
// exactly in the integer sum: Q4_0's nibbles are q + 8, so each of the 8 lanes starts at -sum(x)
// (8 lanes: -8 sum(x)); Q8_0's bytes are flipped to w + 128, so each lane starts at -16 sum(x).
// Every (activation row, weight row) pair runs the same instructions in the same order whatever
// the tile it sits in, so a row's result does not depend on the rows beside it.
#include "kiln/quant/cpu/qdot_kernels.h"

#include <algorithm>
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

// Two consecutive blocks (b, b + 1) travel in one 512-bit register: 32 bytes of block b, then 32
// of block b + 1, so vpdpbusd's lanes 0-7 sum block b and 8-15 block b + 1. With `one`, only block
// b is loaded and the upper half is zero (an odd block count's last block).

// The unsigned bytes of two weight blocks, in the element order of their activation blocks, and
// the count each of the 8 lanes of a block subtracts per unit of sum(x).
struct Q4_0Weights {
  using Block = BlockQ4_0;
  static constexpr int kLaneOffset = 1;
  KILN_VNNI static __m512i bytes(const BlockQ4_0* b, bool one) {
    __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs));
    __m128i r1 =
        one ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs));
    __m256i r = _mm256_set_m128i(r1, r0);
    // [r0, r1, r0 >> 4, r1 >> 4] -> [r0, r0 >> 4, r1, r1 >> 4]: low then high nibbles per block.
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(r), _mm256_srli_epi16(r, 4), 1);
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
  }
};
struct Q8_0Weights {
  using Block = BlockQ8_0;
  static constexpr int kLaneOffset = 16;
  KILN_VNNI static __m512i bytes(const BlockQ8_0* b, bool one) {
    __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs));
    __m256i q1 = one ? _mm256_set1_epi8(char(0x80))
                     : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs));
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
    return _mm512_xor_si512(z, _mm512_set1_epi8(char(0x80)));  // w + 128 (0 for a missing block)
  }
};

// Broadcasts f into lanes 0-7 and g into 8-15.
KILN_VNNI inline __m512 halves(float f, float g) {
  return _mm512_mask_broadcastss_ps(_mm512_set1_ps(f), 0xFF00, _mm_set_ss(g));
}

// Two blocks of one weight row as the tiles take them: unpacked once per pass over the activation
// rows rather than once per tile.
struct alignas(64) Unpacked {
  __m512i u;
  __m512 dw;
};

// RM activation rows (x, nb blocks each) by RN weight rows (pk: their blocks unpacked, 4 slots
// per block pair) into y (rows ldy apart).
template <class W, int RM, int RN>
KILN_VNNI void tile(const Unpacked* pk, const BlockQ8A* x, int64_t nb, float* y, int64_t ldy) {
  __m512 acc[RM][RN];
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b += 2) {
    bool one = b + 1 == nb;
    const Unpacked* pb = pk + (b / 2) * 4;
    __m512i u[RN];
    __m512 dw[RN];
    for (int j = 0; j < RN; ++j) {
      u[j] = pb[j].u;
      dw[j] = pb[j].dw;
    }
    for (int i = 0; i < RM; ++i) {
      const BlockQ8A* a = x + i * nb + b;
      __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[0].q));
      __m256i q1 = one ? _mm256_setzero_si256()
                       : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[1].q));
      __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
      __m512i init = _mm512_mask_set1_epi32(_mm512_set1_epi32(-W::kLaneOffset * a[0].sum), 0xFF00,
                                            one ? 0 : -W::kLaneOffset * a[1].sum);
      __m512 dx = halves(a[0].d, one ? 0.f : a[1].d);
      for (int j = 0; j < RN; ++j) {
        __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, u[j], q));
        acc[i][j] = _mm512_fmadd_ps(dot, _mm512_mul_ps(dx, dw[j]), acc[i][j]);
      }
    }
  }
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

template <class W, int RM>
KILN_VNNI void tile_rows(int rn, const Unpacked* pk, const BlockQ8A* x, int64_t nb, float* y,
                         int64_t ldy) {
  switch (rn) {
    case 4:
      return tile<W, RM, 4>(pk, x, nb, y, ldy);
    case 3:
      return tile<W, RM, 3>(pk, x, nb, y, ldy);
    case 2:
      return tile<W, RM, 2>(pk, x, nb, y, ldy);
    default:
      return tile<W, RM, 1>(pk, x, nb, y, ldy);
  }
}

// Activation rows per pass over the weight rows: their blocks (40 bytes per 32 elements) stay in
// L2 while each 4-row weight tile meets all of them.
constexpr int64_t kPassRows = 64;

template <class W>
KILN_VNNI void gemm(const void* w, size_t row_bytes, int64_t r0, int64_t r1, const BlockQ8A* x,
                    int64_t m, int64_t nb, float* y, int64_t ldy) {
  using Block = typename W::Block;
  int64_t pairs = (nb + 1) / 2;
  thread_local std::vector<Unpacked> buf;
  if (buf.size() < size_t(pairs * 4)) buf.resize(size_t(pairs * 4));
  Unpacked* pk = buf.data();
  for (int64_t i0 = 0; i0 < m; i0 += kPassRows) {
    int64_t i1 = std::min(m, i0 + kPassRows);
    for (int64_t r = r0; r < r1; r += 4) {
      int rn = int(std::min<int64_t>(4, r1 - r));
      for (int j = 0; j < rn; ++j) {
        const auto* row =
            reinterpret_cast<const Block*>(static_cast<const char*>(w) + size_t(r + j) * row_bytes);
        for (int64_t b = 0; b < nb; b += 2) {
          bool one = b + 1 == nb;
          Unpacked& e = pk[(b / 2) * 4 + j];
          e.u = W::bytes(row + b, one);
          e.dw = halves(_cvtsh_ss(row[b].d), one ? 0.f : _cvtsh_ss(row[b + 1].d));
        }
      }
      for (int64_t i = i0; i < i1; i += 4) {
        const BlockQ8A* xi = x + i * nb;
        float* yi = y + i * ldy + r;
        switch (std::min<int64_t>(4, i1 - i)) {
          case 4:
            tile_rows<W, 4>(rn, pk, xi, nb, yi, ldy);
            break;
          case 3:
            tile_rows<W, 3>(rn, pk, xi, nb, yi, ldy);
            break;
          case 2:
            tile_rows<W, 2>(rn, pk, xi, nb, yi, ldy);
            break;
          default:
            tile_rows<W, 1>(rn, pk, xi, nb, yi, ldy);
        }
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
