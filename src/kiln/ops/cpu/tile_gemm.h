#pragma once
// A register-blocked GEMM for the small tiles of fused kernels (attention's 64 x 64 blocks):
// C[m][n] (+)= A[m][k] * B[k][n]. B and C are row-major; A is read one element at a time (each is
// broadcast across a vector), so it may have any strides, a transposed tile included. BLAS is not
// used here: the tiles are too small for its call overhead, and its threads must not start inside
// the thread pool's workers.
#include <cstdint>

#include "kiln/ops/cpu/simd.h"

namespace kiln::ops::cpu {

// A[i][p] is at a + i * ars + p * acs.
template <class A>
struct TileA {
  const A* a;
  int64_t ars, acs;
};

namespace tile_detail {

using simd::Vec;

// Rows per micro-tile and vectors per row: the accumulators plus one row of B fit in the register
// file (32 vector registers with AVX-512, 16 otherwise).
inline constexpr int kMR = 4;
inline constexpr int kNV = simd::kBytes == 64 ? 4 : 2;

template <class A, int MR, int NV>
inline void micro(int64_t k, TileA<A> a, const A* b, int64_t ldb, A* c, int64_t ldc,
                  bool accumulate) {
  constexpr int64_t L = simd::kLanes<A>;
  Vec<A> r[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) r[i][j] = accumulate ? simd::load(c + i * ldc + j * L) : Vec<A>{};
  for (int64_t p = 0; p < k; ++p) {
    Vec<A> bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = simd::load(b + p * ldb + j * L);
    const A* ap = a.a + p * a.acs;
    for (int i = 0; i < MR; ++i) {
      Vec<A> av = simd::splat(ap[i * a.ars]);
      for (int j = 0; j < NV; ++j) r[i][j] += av * bv[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) simd::store(c + i * ldc + j * L, r[i][j]);
}

template <class A, int NV>
inline void rows(int64_t m, int64_t k, TileA<A> a, const A* b, int64_t ldb, A* c, int64_t ldc,
                 bool accumulate) {
  int64_t i = 0;
  auto at = [&](int64_t row) { return TileA<A>{a.a + row * a.ars, a.ars, a.acs}; };
  for (; i + kMR <= m; i += kMR) micro<A, kMR, NV>(k, at(i), b, ldb, c + i * ldc, ldc, accumulate);
  switch (m - i) {
    case 3:
      return micro<A, 3, NV>(k, at(i), b, ldb, c + i * ldc, ldc, accumulate);
    case 2:
      return micro<A, 2, NV>(k, at(i), b, ldb, c + i * ldc, ldc, accumulate);
    case 1:
      return micro<A, 1, NV>(k, at(i), b, ldb, c + i * ldc, ldc, accumulate);
    default:
      return;
  }
}

}  // namespace tile_detail

// n must be a multiple of simd::kLanes<A> (callers pad their tiles). With accumulate false C is
// overwritten; with k == 0 it is then zeroed.
template <class A>
void tile_gemm(int64_t m, int64_t n, int64_t k, TileA<A> a, const A* b, int64_t ldb, A* c,
               int64_t ldc, bool accumulate) {
  using namespace tile_detail;
  constexpr int64_t L = simd::kLanes<A>;
  int64_t j = 0;
  for (; j + kNV * L <= n; j += kNV * L) rows<A, kNV>(m, k, a, b + j, ldb, c + j, ldc, accumulate);
  switch ((n - j) / L) {
    case 3:
      if constexpr (kNV > 3) return rows<A, 3>(m, k, a, b + j, ldb, c + j, ldc, accumulate);
      return;
    case 2:
      if constexpr (kNV > 2) return rows<A, 2>(m, k, a, b + j, ldb, c + j, ldc, accumulate);
      return;
    case 1:
      return rows<A, 1>(m, k, a, b + j, ldb, c + j, ldc, accumulate);
    default:
      return;
  }
}

}  // namespace kiln::ops::cpu
