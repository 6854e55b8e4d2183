#include "kiln/quant/vec_dot.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "kiln/core/error.h"
#include "kiln/core/half.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/cpu/vec_dot_kernels.h"

namespace kiln::quant {

namespace {

float dot_q8_0(const BlockQ8_0* b, const float* x, int64_t nb) {
  float sum = 0.f;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float s = 0.f;
    for (int k = 0; k < 32; ++k) s += float(b[i].qs[k]) * x[k];
    sum += f16::to_float(b[i].d) * s;
  }
  return sum;
}

float dot_q4_0(const BlockQ4_0* b, const float* x, int64_t nb) {
  float sum = 0.f;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float s = 0.f;
    for (int k = 0; k < 16; ++k) {
      s += float(int(b[i].qs[k] & 0xF) - 8) * x[k];
      s += float(int(b[i].qs[k] >> 4) - 8) * x[16 + k];
    }
    sum += f16::to_float(b[i].d) * s;
  }
  return sum;
}

float dot_q4_k(const BlockQ4_K* b, const float* x, int64_t nb) {
  float sum = 0.f;
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(b[i].scales, sc, m);
    float d = f16::to_float(b[i].d), dmin = f16::to_float(b[i].dmin);
    for (int j = 0; j < 8; ++j, x += 32) {
      const uint8_t* qs = b[i].qs + 32 * (j / 2);
      int shift = 4 * (j % 2);
      float sqx = 0.f, sx = 0.f;
      for (int k = 0; k < 32; ++k) {
        sqx += float((qs[k] >> shift) & 0xF) * x[k];
        sx += x[k];
      }
      sum += d * float(sc[j]) * sqx - dmin * float(m[j]) * sx;
    }
  }
  return sum;
}

using DotFn = float (*)(const void*, const float*, int64_t);

template <class B, float (*F)(const B*, const float*, int64_t)>
float erase(const void* b, const float* x, int64_t nb) {
  return F(static_cast<const B*>(b), x, nb);
}

DotFn pick(DType t, Isa isa) {
  switch (t) {
    case DType::Q8_0:
      return isa == Isa::AVX512 ? erase<BlockQ8_0, cpu::dot_q8_0_avx512>
             : isa == Isa::AVX2 ? erase<BlockQ8_0, cpu::dot_q8_0_avx2>
                                : erase<BlockQ8_0, dot_q8_0>;
    case DType::Q4_0:
      return isa == Isa::AVX512 ? erase<BlockQ4_0, cpu::dot_q4_0_avx512>
             : isa == Isa::AVX2 ? erase<BlockQ4_0, cpu::dot_q4_0_avx2>
                                : erase<BlockQ4_0, dot_q4_0>;
    case DType::Q4_K:
      return isa == Isa::AVX512 ? erase<BlockQ4_K, cpu::dot_q4_k_avx512>
             : isa == Isa::AVX2 ? erase<BlockQ4_K, cpu::dot_q4_k_avx2>
                                : erase<BlockQ4_K, dot_q4_k>;
    default:
      break;
  }
  throw Error(str("vec_dot: ", dtype_name(t), " is not a block-quantized type"));
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::AVX2:
      return "avx2";
    case Isa::AVX512:
      return "avx512";
    case Isa::NEON:
      return "neon";
  }
  return "?";
}

#if defined(__x86_64__)
// F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports does not know "f16c". Read
// once: every product checks its path, and CPUID traps to the hypervisor in a virtual machine
// (a tenth of a decode step's time when it ran on every call).
static bool has_f16c() {
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
  }();
  return has;
}
#endif

bool isa_supported(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::AVX512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
             has_f16c();
    case Isa::NEON:
      return false;
  }
  return false;
#elif defined(__aarch64__)
  return isa == Isa::Scalar || isa == Isa::NEON;
#else
  return isa == Isa::Scalar;
#endif
}

Isa best_isa() {
  static const Isa best = isa_supported(Isa::AVX512) ? Isa::AVX512
                          : isa_supported(Isa::AVX2) ? Isa::AVX2
                          : isa_supported(Isa::NEON) ? Isa::NEON
                                                     : Isa::Scalar;
  return best;
}

float vec_dot(DType t, const void* row, const float* x, int64_t n, Isa isa) {
  KILN_REQUIRE(isa_supported(isa), "vec_dot: ", isa_name(isa), " is not supported on this CPU");
  const DTypeInfo& info = dtype_info(t);
  KILN_REQUIRE(n % info.block_elems == 0, "vec_dot: ", n, " elements of ", info.name,
               " are not a multiple of the block size ", info.block_elems);
  return pick(t, isa)(row, x, n / info.block_elems);
}

float vec_dot(DType t, const void* row, const float* x, int64_t n) {
  return vec_dot(t, row, x, n, best_isa());
}

}  // namespace kiln::quant
