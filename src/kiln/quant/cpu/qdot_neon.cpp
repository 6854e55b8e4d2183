// qdot.h's integer kernels with baseline arm64 NEON (no dot-product extension needed): signed
// byte products widen to 16 bits (vmull_s8, at most 128 * 127) and pairwise-accumulate into 32-bit
// lanes (vpadalq_s16).
#include "kiln/quant/cpu/qdot_kernels.h"

#include "kiln/core/error.h"
#include "kiln/core/half.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace kiln::quant::cpu {

#if defined(__aarch64__)

namespace {

// Sum of 16 signed byte products a * b, added into 4 32-bit lanes.
inline int32x4_t mac16(int32x4_t acc, int8x16_t a, int8x16_t b) {
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
  return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
}

}  // namespace

float idot_q8_0_neon(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ8_0*>(row);
  float32x4_t acc = vdupq_n_f32(0.f);
  for (int64_t i = 0; i < nb; ++i) {
    int32x4_t p = mac16(vdupq_n_s32(0), vld1q_s8(w[i].qs), vld1q_s8(x[i].q));
    p = mac16(p, vld1q_s8(w[i].qs + 16), vld1q_s8(x[i].q + 16));
    acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), f16::to_float(w[i].d) * x[i].d);
  }
  return vaddvq_f32(acc);
}

float idot_q4_0_neon(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_0*>(row);
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  const int8x16_t eight = vdupq_n_s8(8);
  float32x4_t acc = vdupq_n_f32(0.f);
  for (int64_t i = 0; i < nb; ++i) {
    uint8x16_t raw = vld1q_u8(w[i].qs);
    int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, mask)), eight);
    int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight);
    int32x4_t p = mac16(vdupq_n_s32(0), lo, vld1q_s8(x[i].q));
    p = mac16(p, hi, vld1q_s8(x[i].q + 16));
    acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), f16::to_float(w[i].d) * x[i].d);
  }
  return vaddvq_f32(acc);
}

float idot_q4_k_neon(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_K*>(row);
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  float32x4_t acc = vdupq_n_f32(0.f);
  float mins = 0.f;
  for (int64_t i = 0; i < nb / 8; ++i, x += 8) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(w[i].scales, sc, m);
    float d = f16::to_float(w[i].d), dmin = f16::to_float(w[i].dmin);
    for (int j = 0; j < 8; ++j) {
      const uint8_t* qs = w[i].qs + 32 * (j / 2);
      uint8x16_t r0 = vld1q_u8(qs), r1 = vld1q_u8(qs + 16);
      if (j % 2) {
        r0 = vshrq_n_u8(r0, 4);
        r1 = vshrq_n_u8(r1, 4);
      } else {
        r0 = vandq_u8(r0, mask);
        r1 = vandq_u8(r1, mask);
      }
      int32x4_t p = mac16(vdupq_n_s32(0), vreinterpretq_s8_u8(r0), vld1q_s8(x[j].q));
      p = mac16(p, vreinterpretq_s8_u8(r1), vld1q_s8(x[j].q + 16));
      acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), d * float(sc[j]) * x[j].d);
      mins += dmin * float(m[j]) * x[j].d * float(x[j].sum);
    }
  }
  return vaddvq_f32(acc) - mins;
}

#else

float idot_q8_0_neon(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no NEON");
  return 0;
}
float idot_q4_0_neon(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no NEON");
  return 0;
}
float idot_q4_k_neon(const void*, const BlockQ8A*, int64_t) {
  KILN_CHECK(false, "no NEON");
  return 0;
}

#endif

}  // namespace kiln::quant::cpu
