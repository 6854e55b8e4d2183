// vec_dot with AVX-512F, compiled for it whatever the build's -march, and called only when the
// CPU reports it.
#include "kiln/quant/cpu/vec_dot_kernels.h"

#include "kiln/core/error.h"
#include "kiln/core/half.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 flags the _mm512_undefined_* placeholders inside its own intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define KILN_AVX512 __attribute__((target("avx512f")))
#endif

namespace kiln::quant::cpu {

#if defined(__x86_64__)

namespace {

// 16 signed (or unsigned) bytes times 16 floats, accumulated into acc.
KILN_AVX512 inline __m512 fma_i8(__m128i v, const float* x, __m512 acc) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)), _mm512_loadu_ps(x), acc);
}
KILN_AVX512 inline __m512 fma_u8(__m128i v, const float* x, __m512 acc) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)), _mm512_loadu_ps(x), acc);
}
KILN_AVX512 inline float hsum(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s = 0.f;
  for (float f : t) s += f;
  return s;
}
KILN_AVX512 inline __m128i load16(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

}  // namespace

KILN_AVX512 float dot_q8_0_avx512(const BlockQ8_0* b, const float* x, int64_t nb) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    __m512 s = fma_i8(load16(b[i].qs), x, _mm512_setzero_ps());
    s = fma_i8(load16(b[i].qs + 16), x + 16, s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16::to_float(b[i].d)), s, acc);
  }
  return hsum(acc);
}

KILN_AVX512 float dot_q4_0_avx512(const BlockQ4_0* b, const float* x, int64_t nb) {
  const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    __m128i raw = load16(b[i].qs);
    __m128i lo = _mm_sub_epi8(_mm_and_si128(raw, mask), eight);
    __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(raw, 4), mask), eight);
    __m512 s = fma_i8(lo, x, _mm512_setzero_ps());
    s = fma_i8(hi, x + 16, s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16::to_float(b[i].d)), s, acc);
  }
  return hsum(acc);
}

KILN_AVX512 float dot_q4_k_avx512(const BlockQ4_K* b, const float* x, int64_t nb) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(b[i].scales, sc, m);
    float d = f16::to_float(b[i].d), dmin = f16::to_float(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      __m128i r0 = load16(b[i].qs + 32 * c), r1 = load16(b[i].qs + 32 * c + 16);
      // Sub-block 2c is in the low nibbles of the 32 bytes, sub-block 2c + 1 in the high ones.
      for (int h = 0; h < 2; ++h, x += 32) {
        __m128i q0 = h ? _mm_and_si128(_mm_srli_epi16(r0, 4), mask) : _mm_and_si128(r0, mask);
        __m128i q1 = h ? _mm_and_si128(_mm_srli_epi16(r1, 4), mask) : _mm_and_si128(r1, mask);
        __m512 sqx = fma_u8(q1, x + 16, fma_u8(q0, x, _mm512_setzero_ps()));
        __m512 sx = _mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16));
        int j = 2 * c + h;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d * float(sc[j])), sqx, acc);
        acc = _mm512_fnmadd_ps(_mm512_set1_ps(dmin * float(m[j])), sx, acc);
      }
    }
  }
  return hsum(acc);
}

#else

float dot_q8_0_avx512(const BlockQ8_0*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float dot_q4_0_avx512(const BlockQ4_0*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float dot_q4_k_avx512(const BlockQ4_K*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}

#endif

}  // namespace kiln::quant::cpu
