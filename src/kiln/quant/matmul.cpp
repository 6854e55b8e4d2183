#include "kiln/quant/matmul.h"

#include <cblas.h>

#include <vector>

#include "kiln/core/error.h"
#include "kiln/core/half.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/matmul.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/cpu/qdot_kernels.h"
#include "kiln/quant/qdot.h"

namespace kiln::quant {

namespace {

// From this many rows of x up, expanding W to f32 tiles for SGEMM beats row-by-row dot products
// (bench/bench_quant.cpp measures both).
constexpr int64_t kGemmRows = 16;
// Weight rows the integer tiles take at once; a thread's share is whole panels.
constexpr int64_t kGemmPanel = 16;

// One weight row expanded to f32.
void expand_row(DType t, const void* row, float* out, int64_t k, Isa isa) {
  if (t == DType::F16) {
    const auto* h = static_cast<const uint16_t*>(row);
    if (isa == Isa::AVX2 || isa == Isa::AVX512) {
      cpu::f16_to_f32_avx2(h, out, k);  // F16C: a tenth of the time of the portable conversion
      return;
    }
    for (int64_t i = 0; i < k; ++i) out[i] = f16::to_float(h[i]);
  } else if (t == DType::BF16) {
    const auto* h = static_cast<const uint16_t*>(row);
    for (int64_t i = 0; i < k; ++i) out[i] = f32_from_bits(uint32_t(h[i]) << 16);
  } else {
    dequantize_row(t, row, out, k);
  }
}

// Scratch that lives with the calling thread and only grows, so a decode step allocates nothing.
template <class T>
T* scratch(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

void gemm_tiles(DType t, const char* w, size_t row_bytes, const float* x, float* y, int64_t m,
                int64_t n, int64_t k, Isa isa) {
  // Tiles of about 4 MiB of f32: big enough for SGEMM to run near its peak, small enough to stay
  // in cache between being written and being read.
  int64_t tile = std::min<int64_t>(n, std::max<int64_t>(16, ((int64_t(1) << 20) / k) / 16 * 16));
  thread_local std::vector<float> buf;
  float* b = scratch(buf, size_t(tile * k));
  for (int64_t n0 = 0; n0 < n; n0 += tile) {
    int64_t nc = std::min(tile, n - n0);
    parallel_for(nc, 8, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        expand_row(t, w + size_t(n0 + r) * row_bytes, b + r * k, k, isa);
    });
    ForeignThreadsGuard blas;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(nc), int(k), 1.f, x, int(k), b,
                int(k), 0.f, y + n0, int(n));
  }
}

void check_weight(const Tensor& w, const char* what) {
  KILN_REQUIRE(
      w.defined() && w.dim() == 2 && is_packed_weight(w.dtype()) && w.is_contiguous() &&
          w.device().is_cpu(),
      what, ": weight must be a contiguous 2-D CPU tensor of q8_0, q4_0, q4_k, f16 or bf16",
      w.defined() ? str(", found ", dtype_name(w.dtype()), " ", shape_str(w.sizes())) : "");
}

}  // namespace

bool is_packed_weight(DType t) {
  return t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K || t == DType::F16 ||
         t == DType::BF16;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Isa isa, int64_t gemm_rows) {
  check_weight(w, "quantized linear");
  DType t = w.dtype();
  int64_t n = w.size(0), k = w.size(1);
  KILN_REQUIRE(x.dtype() == DType::F32 && x.device().is_cpu() && x.dim() >= 1 && x.size(-1) == k,
               "quantized linear: input must be f32 [..., ", k, "] on the CPU, found ",
               dtype_name(x.dtype()), " ", shape_str(x.sizes()));
  KILN_REQUIRE(!x.requires_grad(), "quantized linear: no gradient flows through a ", dtype_name(t),
               " weight; it is for inference (load f32 weights to train)");
  KILN_REQUIRE(
      !bias.defined() || (bias.dtype() == DType::F32 && bias.dim() == 1 && bias.size(0) == n),
      "quantized linear: bias must be f32 [", n, "]");
  Tensor xc = x.contiguous();
  int64_t m = xc.numel() / k;
  Shape os = x.sizes();
  os.back() = n;
  Tensor y = Tensor::empty(os, DType::F32);
  const float* xp = xc.data<float>();
  float* yp = y.data<float>();
  const char* wp = static_cast<const char*>(w.raw_data());
  size_t row_bytes = dtype_nbytes(t, k);
  // Enough output rows per chunk that a chunk's weights are tens of KiB.
  int64_t grain = std::max<int64_t>(4, int64_t(16384 / std::max<size_t>(row_bytes, 1)));

  // Under ops::BatchInvariantGuard (the server's batched decode) every row takes the per-row path,
  // so a row's result does not depend on how many rows share the call.
  bool per_row = ops::batch_invariant();
  thread_local std::vector<BlockQ8A> act_buf;  // the quantized activation rows
  IntGemmFn igemm = takes_int_act(t) ? int_gemm(t, isa) : nullptr;
  if (m >= gemm_rows && !per_row && igemm) {
    // Integer products in register tiles: no f32 copy of the weights, the activation rows
    // quantized once for all weight rows. (One row is faster through int_dot, below.)
    int64_t nb = k / kActBlock;
    BlockQ8A* act = scratch(act_buf, size_t(m * nb));
    parallel_for(m, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) quantize_act(xp + i * k, act + i * nb, k, isa);
    });
    // Whole panels of 16 weight rows per chunk (the kernels give each row a 32-bit lane).
    int64_t panels = (n + kGemmPanel - 1) / kGemmPanel;
    parallel_for(panels, std::max<int64_t>(1, grain / kGemmPanel), [&](int64_t p0, int64_t p1) {
      igemm(wp, row_bytes, p0 * kGemmPanel, std::min(n, p1 * kGemmPanel), act, m, nb, yp, n);
    });
  } else if (m >= gemm_rows && !per_row) {
    gemm_tiles(t, wp, row_bytes, xp, yp, m, n, k, isa);
  } else if (takes_int_act(t)) {
    int64_t nb = k / kActBlock;
    BlockQ8A* act = scratch(act_buf, size_t(m * nb));
    for (int64_t r = 0; r < m; ++r) quantize_act(xp + r * k, act + r * nb, k, isa);
    IntDotFn dot = int_dot(t, isa);
    parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const char* row = wp + size_t(r) * row_bytes;
        for (int64_t i = 0; i < m; ++i) yp[i * n + r] = dot(row, act + i * nb, nb);
      }
    });
  } else {
    HalfDotFn dot = half_dot(t, isa);
    parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const char* row = wp + size_t(r) * row_bytes;
        for (int64_t i = 0; i < m; ++i) yp[i * n + r] = dot(row, xp + i * k, k);
      }
    });
  }
  if (bias.defined()) {
    const float* bp = bias.contiguous().data<float>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < n; ++r) yp[i * n + r] += bp[r];
  }
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  return linear(x, w, bias, best_isa(), kGemmRows);
}

Tensor embedding(const Tensor& w, const Tensor& ids) {
  check_weight(w, "quantized embedding");
  KILN_REQUIRE(ids.dtype() == DType::I64 || ids.dtype() == DType::I32, "embedding ids: found ",
               dtype_name(ids.dtype()), ", expected i32 or i64");
  DType t = w.dtype();
  int64_t v = w.size(0), d = w.size(1);
  Tensor idc = ids.to(DType::I64).contiguous();
  Shape os = ids.sizes();
  os.push_back(d);
  Tensor y = Tensor::empty(os, DType::F32);
  const int64_t* ip = idc.data<int64_t>();
  float* yp = y.data<float>();
  const char* wp = static_cast<const char*>(w.raw_data());
  size_t row_bytes = dtype_nbytes(t, d);
  for (int64_t i = 0; i < idc.numel(); ++i) {
    KILN_REQUIRE(ip[i] >= 0 && ip[i] < v, "embedding: token id ", ip[i], " is outside [0, ", v,
                 ")");
    expand_row(t, wp + size_t(ip[i]) * row_bytes, yp + i * d, d, best_isa());
  }
  return y;
}

}  // namespace kiln::quant
