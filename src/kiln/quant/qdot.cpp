#include "kiln/quant/qdot.h"

#include <cmath>

#include "kiln/core/error.h"
#include "kiln/core/half.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/cpu/qdot_kernels.h"

namespace kiln::quant {

void quantize_act(const float* x, BlockQ8A* out, int64_t n, Isa isa) {
  if (isa == Isa::AVX512) return cpu::quantize_act_avx512(x, out, n);
  quantize_act(x, out, n);
}

void quantize_act(const float* x, BlockQ8A* out, int64_t n) {
  for (int64_t b = 0; b < n / kActBlock; ++b, x += kActBlock) {
    float amax = 0.f;
    for (int k = 0; k < kActBlock; ++k) amax = std::max(amax, std::fabs(x[k]));
    float d = amax / 127.f, inv = d > 0.f ? 1.f / d : 0.f;
    int32_t sum = 0;
    for (int k = 0; k < kActBlock; ++k) {
      int q = int(std::nearbyint(x[k] * inv));
      out[b].q[k] = int8_t(q);
      sum += q;
    }
    out[b].d = d;
    out[b].sum = sum;
  }
}

namespace {

// The scalar reference kernels: exact integer block sums, one f32 scale per block.
float idot_q8_0(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ8_0*>(row);
  float sum = 0.f;
  for (int64_t i = 0; i < nb; ++i) {
    int32_t s = 0;
    for (int k = 0; k < 32; ++k) s += int32_t(w[i].qs[k]) * x[i].q[k];
    sum += f16::to_float(w[i].d) * x[i].d * float(s);
  }
  return sum;
}

float idot_q4_0(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_0*>(row);
  float sum = 0.f;
  for (int64_t i = 0; i < nb; ++i) {
    int32_t s = 0;
    for (int k = 0; k < 16; ++k)
      s += int32_t(w[i].qs[k] & 0xF) * x[i].q[k] + int32_t(w[i].qs[k] >> 4) * x[i].q[16 + k];
    sum += f16::to_float(w[i].d) * x[i].d * float(s - 8 * x[i].sum);
  }
  return sum;
}

float idot_q4_k(const void* row, const BlockQ8A* x, int64_t nb) {
  const auto* w = static_cast<const BlockQ4_K*>(row);
  float sum = 0.f;
  for (int64_t i = 0; i < nb / 8; ++i) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(w[i].scales, sc, m);
    float d = f16::to_float(w[i].d), dmin = f16::to_float(w[i].dmin);
    for (int j = 0; j < 8; ++j) {
      const BlockQ8A& a = x[8 * i + j];
      const uint8_t* qs = w[i].qs + 32 * (j / 2);
      int shift = 4 * (j % 2);
      int32_t s = 0;
      for (int k = 0; k < 32; ++k) s += int32_t((qs[k] >> shift) & 0xF) * a.q[k];
      sum += d * float(sc[j]) * a.d * float(s) - dmin * float(m[j]) * a.d * float(a.sum);
    }
  }
  return sum;
}

float hdot_f16(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  float sum = 0.f;
  for (int64_t k = 0; k < n; ++k) sum += f16::to_float(w[k]) * x[k];
  return sum;
}

float hdot_bf16(const void* row, const float* x, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  float sum = 0.f;
  for (int64_t k = 0; k < n; ++k) sum += f32_from_bits(uint32_t(w[k]) << 16) * x[k];
  return sum;
}

}  // namespace

bool takes_int_act(DType t) {
  return t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K;
}

IntDotFn int_dot(DType t, Isa isa) {
  KILN_REQUIRE(isa_supported(isa), "quantized dot: ", isa_name(isa),
               " is not supported on this CPU");
  switch (t) {
    case DType::Q8_0:
      return isa == Isa::AVX512 ? cpu::idot_q8_0_avx512
             : isa == Isa::AVX2 ? cpu::idot_q8_0_avx2
             : isa == Isa::NEON ? cpu::idot_q8_0_neon
                                : idot_q8_0;
    case DType::Q4_0:
      return isa == Isa::AVX512 ? cpu::idot_q4_0_avx512
             : isa == Isa::AVX2 ? cpu::idot_q4_0_avx2
             : isa == Isa::NEON ? cpu::idot_q4_0_neon
                                : idot_q4_0;
    case DType::Q4_K:
      return isa == Isa::AVX512 ? cpu::idot_q4_k_avx512
             : isa == Isa::AVX2 ? cpu::idot_q4_k_avx2
             : isa == Isa::NEON ? cpu::idot_q4_k_neon
                                : idot_q4_k;
    default:
      break;
  }
  throw Error(str("quantized dot: ", dtype_name(t), " weights do not take 8-bit activations"));
}

IntGemmFn int_gemm(DType t, Isa isa) {
  KILN_REQUIRE(isa_supported(isa), "int_gemm: ", isa_name(isa), " is not available here");
  if (isa != Isa::AVX512) return nullptr;
  return t == DType::Q8_0   ? cpu::igemm_q8_0_avx512
         : t == DType::Q4_0 ? cpu::igemm_q4_0_avx512
                            : nullptr;
}

HalfDotFn half_dot(DType t, Isa isa) {
  KILN_REQUIRE(isa_supported(isa), "half dot: ", isa_name(isa), " is not supported on this CPU");
  switch (t) {
    case DType::F16:
      return isa == Isa::AVX512 ? cpu::hdot_f16_avx512
             : isa == Isa::AVX2 ? cpu::hdot_f16_avx2
                                : hdot_f16;
    case DType::BF16:
      return isa == Isa::AVX512 ? cpu::hdot_bf16_avx512
             : isa == Isa::AVX2 ? cpu::hdot_bf16_avx2
                                : hdot_bf16;
    default:
      break;
  }
  throw Error(str("half dot: ", dtype_name(t), " is not f16 or bf16"));
}

}  // namespace kiln::quant
