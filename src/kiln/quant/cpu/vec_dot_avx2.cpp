// vec_dot with AVX2 + FMA, compiled for those instructions whatever the build's -march, and
// called only when the CPU reports them.
#include "kiln/quant/cpu/vec_dot_kernels.h"

#include "kiln/core/error.h"
#include "kiln/core/half.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define KILN_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace kiln::quant::cpu {

#if defined(__x86_64__)

namespace {

KILN_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 signed bytes (the low half of v) times 8 floats, accumulated into acc.
KILN_AVX2 inline __m256 fma_i8(__m128i v, const float* x, __m256 acc) {
  __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
  return _mm256_fmadd_ps(q, _mm256_loadu_ps(x), acc);
}

}  // namespace

KILN_AVX2 float dot_q8_0_avx2(const BlockQ8_0* b, const float* x, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 16));
    __m256 s = fma_i8(lo, x, _mm256_setzero_ps());
    s = fma_i8(_mm_srli_si128(lo, 8), x + 8, s);
    s = fma_i8(hi, x + 16, s);
    s = fma_i8(_mm_srli_si128(hi, 8), x + 24, s);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(f16::to_float(b[i].d)), s, acc);
  }
  return hsum(acc);
}

KILN_AVX2 float dot_q4_0_avx2(const BlockQ4_0* b, const float* x, int64_t nb) {
  const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    __m128i lo = _mm_sub_epi8(_mm_and_si128(raw, mask), eight);
    __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(raw, 4), mask), eight);
    __m256 s = fma_i8(lo, x, _mm256_setzero_ps());
    s = fma_i8(_mm_srli_si128(lo, 8), x + 8, s);
    s = fma_i8(hi, x + 16, s);
    s = fma_i8(_mm_srli_si128(hi, 8), x + 24, s);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(f16::to_float(b[i].d)), s, acc);
  }
  return hsum(acc);
}

KILN_AVX2 float dot_q4_k_avx2(const BlockQ4_K* b, const float* x, int64_t nb) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(b[i].scales, sc, m);
    float d = f16::to_float(b[i].d), dmin = f16::to_float(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 32 * c));
      __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 32 * c + 16));
      // Sub-block 2c is in the low nibbles of the 32 bytes, sub-block 2c + 1 in the high ones.
      for (int h = 0; h < 2; ++h, x += 32) {
        __m128i q0 = h ? _mm_and_si128(_mm_srli_epi16(r0, 4), mask) : _mm_and_si128(r0, mask);
        __m128i q1 = h ? _mm_and_si128(_mm_srli_epi16(r1, 4), mask) : _mm_and_si128(r1, mask);
        __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
        __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
        __m256 sqx = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q0)), x0);
        sqx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(q0, 8))), x1,
                              sqx);
        sqx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q1)), x2, sqx);
        sqx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(q1, 8))), x3,
                              sqx);
        __m256 sx = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
        int j = 2 * c + h;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(sc[j])), sqx, acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * float(m[j])), sx, acc);
      }
    }
  }
  return hsum(acc);
}

#else

float dot_q8_0_avx2(const BlockQ8_0*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float dot_q4_0_avx2(const BlockQ4_0*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float dot_q4_k_avx2(const BlockQ4_K*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}

#endif

}  // namespace kiln::quant::cpu
