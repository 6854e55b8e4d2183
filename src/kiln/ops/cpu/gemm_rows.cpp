// The batch-invariant f32 product x w^T (see BatchInvariantGuard in ops/matmul.h).
//
// Every output element is the dot product of one row of x with one row of w, accumulated in the
// same order whatever the number of rows: lane l of a vector accumulator sums the products at
// k = l, l + L, l + 2L, ... in increasing k (the tail is zero-padded), then the lanes are added
// in one fixed tree. Tiles of up to 4 x rows by 8 w rows only decide which dot products share the
// loads, never how a dot product is summed, so a row's result is the same alone or among 63 others.
//
// Threads split the w rows (output columns): each w row is read from memory once per call, for
// all x rows, which is where batching saves time in decode (weights dominate the traffic).

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/simd.h"
#include "kiln/ops/matmul.h"

namespace kiln::ops {

namespace {
thread_local int batch_invariant_depth = 0;
}

BatchInvariantGuard::BatchInvariantGuard() {
  ++batch_invariant_depth;
}
BatchInvariantGuard::~BatchInvariantGuard() {
  --batch_invariant_depth;
}
bool batch_invariant() {
  return batch_invariant_depth > 0;
}

namespace cpu {
namespace {

using V = simd::Vec<float>;
constexpr int64_t L = simd::kLanes<float>;

// a * b + c, fused where the CPU has FMA (every element takes the same path, so fusing keeps the
// order fixed; it only rounds once instead of twice).
inline V fmadd(V a, V b, V c) {
#if defined(__AVX512F__)
  return V(_mm512_fmadd_ps(__m512(a), __m512(b), __m512(c)));
#elif defined(__FMA__) && defined(__AVX__)
  return V(_mm256_fmadd_ps(__m256(a), __m256(b), __m256(c)));
#else
  return a * b + c;
#endif
}

// The last k % L elements of a row, zero-padded to a vector.
V tail(const float* p, int64_t n) {
  float buf[L] = {};
  for (int64_t i = 0; i < n; ++i) buf[i] = p[i];
  return simd::load(buf);
}

// out[m, n] = x[m] . w[n] for MR rows of x and NR rows of w.
template <int MR, int NR>
void tile(const float* x, int64_t ldx, const float* w, int64_t ldw, int64_t K, float* out,
          int64_t ldo) {
  V acc[MR][NR] = {};
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V wv[NR];
    for (int j = 0; j < NR; ++j) {
      wv[j] = simd::load(w + j * ldw + k);
      // Keeps each w vector in a register: otherwise g++ folds the load into every FMA that
      // uses it, loading it MR times (20 loads per 16 FMAs in a 4x4 tile instead of 8).
      asm("" : "+v"(wv[j]));
    }
    for (int i = 0; i < MR; ++i) {
      V xv = simd::load(x + i * ldx + k);
      asm("" : "+v"(xv));  // the same for x: one load per row and step
      for (int j = 0; j < NR; ++j) acc[i][j] = fmadd(xv, wv[j], acc[i][j]);
    }
  }
  if (k < K) {
    V wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = tail(w + j * ldw + k, K - k);
    for (int i = 0; i < MR; ++i) {
      V xv = tail(x + i * ldx + k, K - k);
      for (int j = 0; j < NR; ++j) acc[i][j] = fmadd(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * ldo + j] = simd::tree_sum(acc[i][j]);
}

// Every row of x against NR rows of w: tiles of 4 rows, the last 1-3 rows as one tile (a tile of
// one row has only NR independent sums in flight, too few to keep the FMA units busy).
template <int NR>
void rows(const float* x, int64_t ldx, int64_t M, const float* w, int64_t ldw, int64_t K,
          float* out, int64_t ldo) {
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) tile<4, NR>(x + m * ldx, ldx, w, ldw, K, out + m * ldo, ldo);
  const float* xm = x + m * ldx;
  float* om = out + m * ldo;
  switch (M - m) {
    case 3:
      return tile<3, NR>(xm, ldx, w, ldw, K, om, ldo);
    case 2:
      return tile<2, NR>(xm, ldx, w, ldw, K, om, ldo);
    case 1:
      return tile<1, NR>(xm, ldx, w, ldw, K, om, ldo);
  }
}

}  // namespace

bool gemm_rows(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  // Only what linear() hands over: one matrix, x row-major, b = w^T with w row-major.
  if (out.dtype() != DType::F32 || out.size(0) != 1 || a.stride(-1) != 1 || b.stride(-2) != 1)
    return false;
  int64_t M = out.size(1), N = out.size(2), K = a.size(2);
  const float* x = static_cast<const float*>(a.raw_data());
  const float* w = static_cast<const float*>(b.raw_data());
  float* o = static_cast<float*>(out.raw_data());
  int64_t ldx = std::max<int64_t>(a.stride(-2), K), ldw = std::max<int64_t>(b.stride(-1), K);
  std::vector<float> tmp;
  float* dst = o;
  if (alpha != 1.f || beta != 0.f) {
    tmp.resize(size_t(M * N));
    dst = tmp.data();
  }
  parallel_for((N + 3) / 4, 16, [&](int64_t b0, int64_t b1) {
    for (int64_t nb = b0; nb < b1; ++nb) {
      int64_t n = nb * 4;
      if (M <= 2 && nb + 1 < b1 && n + 8 <= N) {  // decode: 8 w rows, 8 or 16 sums in flight
        rows<8>(x, ldx, M, w + n * ldw, ldw, K, dst + n, N);
        ++nb;
      } else if (n + 4 <= N) {
        rows<4>(x, ldx, M, w + n * ldw, ldw, K, dst + n, N);
      } else {
        for (; n < N; ++n) rows<1>(x, ldx, M, w + n * ldw, ldw, K, dst + n, N);
      }
    }
  });
  if (dst != o)
    for (int64_t i = 0; i < M * N; ++i) o[i] = alpha * dst[i] + (beta == 0.f ? 0.f : beta * o[i]);
  return true;
}

}  // namespace cpu
}  // namespace kiln::ops
