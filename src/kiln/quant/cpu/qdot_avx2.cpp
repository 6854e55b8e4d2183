// qdot.h's kernels with AVX2: vpmaddubsw multiplies unsigned by signed bytes into 16-bit pair
// sums (at most 2 * 128 * 127, so never saturating here) and vpmaddwd folds them to 32 bits.
// Q8_0's signed weights become unsigned by moving their sign onto the activation, as in the
// AVX-512 kernels.
#include "kiln/quant/cpu/qdot_kernels.h"

#include "kiln/core/error.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 flags the _mm*_undefined_* placeholders inside its own intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#define KILN_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace kiln::quant::cpu {

#if defined(__x86_64__)

#define KILN_QDOT_TARGET KILN_AVX2
#define KILN_QDOT_NAME(f) f##_avx2

namespace {

// Sum over the 32 bytes of u (unsigned) times s (signed), as 8 f32 lanes of partial sums.
KILN_AVX2 inline __m256 dot_us(__m256i u, __m256i s) {
  __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  return _mm256_cvtepi32_ps(p);
}
KILN_AVX2 inline __m256 dot_us_minus(__m256i u, __m256i s, int32_t c) {
  __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(p, _mm256_set1_epi32(c)));
}

}  // namespace

#include "kiln/quant/cpu/qdot_x86_int.inc"

KILN_AVX2 void f16_to_f32_avx2(const uint16_t* h, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; ++i) out[i] = _cvtsh_ss(h[i]);
}

KILN_AVX2 float hdot_f16_avx2(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k)));
    __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + k), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + k + 8), acc1);
  }
  float sum = hsum8(_mm256_add_ps(acc0, acc1));
  for (; k < n; ++k) sum += _cvtsh_ss(w[k]) * x[k];
  return sum;
}

KILN_AVX2 float hdot_bf16_avx2(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  auto widen = [](const uint16_t* p) KILN_AVX2 {
    __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  };
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 = _mm256_fmadd_ps(widen(w + k), _mm256_loadu_ps(x + k), acc0);
    acc1 = _mm256_fmadd_ps(widen(w + k + 8), _mm256_loadu_ps(x + k + 8), acc1);
  }
  float sum = hsum8(_mm256_add_ps(acc0, acc1));
  for (; k < n; ++k) {
    uint32_t b = uint32_t(w[k]) << 16;
    float f;
    __builtin_memcpy(&f, &b, 4);
    sum += f * x[k];
  }
  return sum;
}

#else

void f16_to_f32_avx2(const uint16_t*, float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
}
float idot_q8_0_avx2(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float idot_q4_0_avx2(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float idot_q4_k_avx2(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float hdot_f16_avx2(const void*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}
float hdot_bf16_avx2(const void*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX2");
  return 0;
}

#endif

}  // namespace kiln::quant::cpu
