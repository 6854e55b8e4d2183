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

namespace {

KILN_VNNI inline float h2f(uint16_t h) {
  return _cvtsh_ss(h);
}
KILN_VNNI inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
KILN_VNNI inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
// Sum over the 32 bytes of u (unsigned) times s (signed), as 8 f32 lanes of partial sums.
KILN_VNNI inline __m256 dot_us(__m256i u, __m256i s) {
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s));
}

}  // namespace

KILN_VNNI float idot_q8_0_avx512(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ8_0*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    __m256i w0 = load32(w[i].qs), w1 = load32(w[i + 1].qs);
    __m256i x0 = load32(x[i].q), x1 = load32(x[i + 1].q);
    __m256 p0 = dot_us(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
    __m256 p1 = dot_us(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * x[i].d), p0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i + 1].d) * x[i + 1].d), p1, acc1);
  }
  for (; i < nb; ++i) {
    __m256i w0 = load32(w[i].qs), x0 = load32(x[i].q);
    __m256 p0 = dot_us(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * x[i].d), p0, acc0);
  }
  return hsum8(_mm256_add_ps(acc0, acc1));
}

// Nibbles as unsigned bytes (low nibbles = elements 0-15, high = 16-31), dotted with x; the
// offset of 8 comes off once per block through the activation's sum.
KILN_VNNI float idot_q4_0_avx512(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_0*>(row);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float off = 0.f;
  for (int64_t i = 0; i < nb; ++i) {
    __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].qs));
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), mask);
    float s = h2f(w[i].d) * x[i].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(s), dot_us(q, load32(x[i].q)), acc);
    off += s * float(x[i].sum);
  }
  return hsum8(acc) - 8.f * off;
}

KILN_VNNI float idot_q4_k_avx512(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_K*>(row);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.f;
  for (int64_t i = 0; i < nb / 8; ++i, x += 8) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(w[i].scales, sc, m);
    float d = h2f(w[i].d), dmin = h2f(w[i].dmin);
    float msum = 0.f;
    for (int c = 0; c < 4; ++c) {
      // 32 bytes hold sub-block 2c in their low nibbles and 2c + 1 in their high ones.
      __m256i raw = load32(w[i].qs + 32 * c);
      __m256i lo = _mm256_and_si256(raw, mask);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask);
      const BlockQ8A& a0 = x[2 * c];
      const BlockQ8A& a1 = x[2 * c + 1];
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(sc[2 * c]) * a0.d), dot_us(lo, load32(a0.q)),
                            acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(sc[2 * c + 1]) * a1.d),
                            dot_us(hi, load32(a1.q)), acc);
      msum += float(m[2 * c]) * a0.d * float(a0.sum) + float(m[2 * c + 1]) * a1.d * float(a1.sum);
    }
    mins += dmin * msum;
  }
  return hsum8(acc) - mins;
}

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
