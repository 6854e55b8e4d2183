#include <cblas.h>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/simd.h"
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

// Rows a few enough that one pass over the weight serves all of them.
constexpr int64_t kFewRows = 8;

// out[i][n] = alpha * dot(a_i, w_n) + beta * out[i][n] for MR rows of a and every row of w
// [N, K]: Linear's x W^T with a few tokens (speculative verification, short prefill chunks).
// Each weight row is read once for all MR rows, where gemm first packs the whole weight into
// panels (a pass over it that costs as much as the product at this size) and gemv would read
// it once per row.
template <class T, int MR>
void few_rows(const T* a, int64_t lda, const T* w, int64_t ldw, T* out, int64_t N, int64_t K,
              float alpha, float beta) {
  constexpr int64_t L = simd::kLanes<T>;
  parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const T* wn = w + n * ldw;
      simd::Vec<T> acc[MR] = {};
      int64_t k = 0;
      for (; k + L <= K; k += L) {
        simd::Vec<T> wv = simd::load(wn + k);
        for (int i = 0; i < MR; ++i) acc[i] += simd::load(a + i * lda + k) * wv;
      }
      for (int i = 0; i < MR; ++i) {
        T d = simd::hsum<T>(acc[i]);
        for (int64_t p = k; p < K; ++p) d += a[i * lda + p] * wn[p];
        T& o = out[i * N + n];
        o = T(alpha) * d + (beta == 0.f ? T(0) : T(beta) * o);
      }
    }
  });
}

template <class T, int MR = 2>
void few_rows_dispatch(int64_t m, const T* a, int64_t lda, const T* w, int64_t ldw, T* out,
                       int64_t N, int64_t K, float alpha, float beta) {
  if constexpr (MR <= kFewRows) {
    if (m == MR) return few_rows<T, MR>(a, lda, w, ldw, out, N, K, alpha, beta);
    few_rows_dispatch<T, MR + 1>(m, a, lda, w, ldw, out, N, K, alpha, beta);
  }
}

template <class T>
void blas_gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  int64_t B = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  MatLayout la = layout(a), lb = layout(b);
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* po = static_cast<T*>(out.raw_data());
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
    if (M <= kFewRows && la.trans == CblasNoTrans && lb.trans == CblasTrans) {
      few_rows_dispatch<T>(M, ai, la.ld, bi, lb.ld, oi, N, K, alpha, beta);
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
  if (batch_invariant() && gemm_rows(a, b, out, alpha, beta)) return;
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
