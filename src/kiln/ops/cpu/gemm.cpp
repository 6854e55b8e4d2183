#include <cblas.h>

#include "kiln/core/error.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/matmul.h"

namespace kiln::ops::cpu {

namespace {

struct MatLayout {
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

// A [rows, cols] view with unit stride in one dim, as BLAS sees it in row-major order.
MatLayout layout(const Tensor& m) {
  if (m.stride(-1) == 1 && (m.size(-2) == 1 || m.stride(-2) >= m.size(-1)))
    return {CblasNoTrans, std::max<int64_t>(m.stride(-2), std::max<int64_t>(1, m.size(-1)))};
  return {CblasTrans, std::max<int64_t>(m.stride(-1), std::max<int64_t>(1, m.size(-2)))};
}

// Up to this many rows, x w^T goes to gemm_rows (each weight row read once for all of x's rows)
// instead of sgemm, which first packs the whole weight into panels: a pass over it that costs as
// much as the product at this size (speculative verification, short prefill chunks). One row
// (decode) too: gemm_rows is faster than sgemv there, and runs on kiln's pool, whose workers spin
// between ops, where sgemv's OpenBLAS threads would compete with them for the cores.
constexpr int64_t kFewRows = 8;

template <class T>
void blas_gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  int64_t B = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  MatLayout la = layout(a), lb = layout(b);
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  ForeignThreadsGuard blas;  // OpenBLAS's threads run: kiln's pool does not spin meanwhile
  for (int64_t i = 0; i < B; ++i) {
    const T* ai = pa + i * a.stride(0);
    const T* bi = pb + i * b.stride(0);
    T* oi = po + i * M * N;
    if (M == 0 || N == 0) continue;
    if (K == 0) {
      for (int64_t j = 0; j < M * N; ++j) oi[j] = beta == 0.f ? T(0) : T(beta) * oi[j];
      continue;
    }
    if (M == 1) {
      // One row (decode): a matrix-vector product streams B once, where gemm would first pack
      // it into panels (most of a decode step's time otherwise). a's elements are la.ld apart
      // when its row is a column of a transposed view.
      int64_t inc = la.trans == CblasNoTrans ? 1 : la.ld;
      bool rows_are_k = lb.trans == CblasNoTrans;  // b stored [K, N]: out = b^T a
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemv(CblasRowMajor, rows_are_k ? CblasTrans : CblasNoTrans, rows_are_k ? K : N,
                    rows_are_k ? N : K, alpha, bi, lb.ld, ai, inc, beta, oi, 1);
      else
        cblas_dgemv(CblasRowMajor, rows_are_k ? CblasTrans : CblasNoTrans, rows_are_k ? K : N,
                    rows_are_k ? N : K, alpha, bi, lb.ld, ai, inc, beta, oi, 1);
      continue;
    }
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, la.trans, lb.trans, M, N, K, alpha, ai, la.ld, bi, lb.ld, beta, oi,
                  N);
    else
      cblas_dgemm(CblasRowMajor, la.trans, lb.trans, M, N, K, alpha, ai, la.ld, bi, lb.ld, beta, oi,
                  N);
  }
}

}  // namespace

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  bool few_rows = out.size(1) <= kFewRows;
  if ((batch_invariant() || few_rows) && gemm_rows(a, b, out, alpha, beta)) return;
  switch (out.dtype()) {
    case DType::F32:
      return blas_gemm<float>(a, b, out, alpha, beta);
    case DType::F64:
      return blas_gemm<double>(a, b, out, alpha, beta);
    case DType::BF16:
    case DType::F16: {
      // Widen, multiply in f32, round once.
      Tensor o32 = beta == 0.f ? Tensor::empty(out.sizes()) : out.to(DType::F32);
      blas_gemm<float>(a.to(DType::F32), b.to(DType::F32), o32, alpha, beta);
      out.copy_(o32);
      return;
    }
    default:
      throw Error(str("matmul: unsupported dtype ", dtype_name(out.dtype())));
  }
}

}  // namespace kiln::ops::cpu
