// qdot.h's kernels with AVX-512 VNNI: vpdpbusd on 256-bit lanes (one 32-element block each)
// multiplies unsigned by signed bytes and sums groups of four into 32-bit lanes. Q8_0's signed
// weights become unsigned by moving their sign onto the activation (|w| * (x * sign w)), which is
// exact because activations stay within [-127, 127].
#include "kiln/quant/cpu/qdot_kernels.h"

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

#define KILN_QDOT_TARGET KILN_VNNI
#define KILN_QDOT_NAME(f) f##_avx512

namespace {

// Sum over the 32 bytes of u (unsigned) times s (signed), as 8 f32 lanes of partial sums.
KILN_VNNI inline __m256 dot_us(__m256i u, __m256i s) {
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s));
}
KILN_VNNI inline __m256 dot_us_minus(__m256i u, __m256i s, int32_t c) {
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_set1_epi32(-c), u, s));
}

}  // namespace

#include "kiln/quant/cpu/qdot_x86_int.inc"

KILN_VNNI float hdot_f16_avx512(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k)));
    __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k + 16)));
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + k), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), acc1);
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; k < n; ++k) sum += _cvtsh_ss(w[k]) * x[k];
  return sum;
}

KILN_VNNI float hdot_bf16_avx512(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto widen = [](const uint16_t* p) KILN_VNNI {
    __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  };
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    acc0 = _mm512_fmadd_ps(widen(w + k), _mm512_loadu_ps(x + k), acc0);
    acc1 = _mm512_fmadd_ps(widen(w + k + 16), _mm512_loadu_ps(x + k + 16), acc1);
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; k < n; ++k) {
    uint32_t b = uint32_t(w[k]) << 16;
    float f;
    __builtin_memcpy(&f, &b, 4);
    sum += f * x[k];
  }
  return sum;
}

#else

float idot_q8_0_avx512(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float idot_q4_0_avx512(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float idot_q4_k_avx512(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float hdot_f16_avx512(const void*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}
float hdot_bf16_avx512(const void*, const float*, int64_t) {
  KILN_CHECK(false, "no AVX-512");
  return 0;
}

#endif

}  // namespace kiln::quant::cpu
