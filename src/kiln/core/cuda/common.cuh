#pragma once
// What every CUDA kernel file shares: the device twin of each kiln storage type, converting
// loads and stores (bf16/f16 through f32, rounded to nearest even once, as the CPU backend does),
// a strided indexer for elementwise kernels, and the grid size of a flat launch.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <array>
#include <cstdint>
#include <vector>

#include "kiln/core/copy.h"
#include "kiln/core/cuda/runtime.h"
#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/tensor.h"

namespace kiln::cuda {

// kiln::bf16 / kiln::f16 are host types; kernels see the CUDA types of the same bits.
template <class T>
struct dev {
  using type = T;
};
template <>
struct dev<kiln::bf16> {
  using type = __nv_bfloat16;
};
template <>
struct dev<kiln::f16> {
  using type = __half;
};
template <class T>
using dev_t = typename dev<T>::type;

template <class A, class T>
__device__ __forceinline__ A load(const T* p) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return A(__bfloat162float(*p));
  else if constexpr (std::is_same_v<T, __half>)
    return A(__half2float(*p));
  else
    return A(*p);
}
template <class T, class A>
__device__ __forceinline__ void store(T* p, A v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>)
    *p = __float2bfloat16_rn(float(v));
  else if constexpr (std::is_same_v<T, __half>)
    *p = __float2half_rn(float(v));
  else
    *p = T(v);
}

template <class T>
dev_t<T>* ptr(const Tensor& t) {
  return static_cast<dev_t<T>*>(t.raw_data());
}

constexpr int kMaxDims = 8;

// Element offsets of up to N operands that share one shape, each with its own strides.
template <int N>
struct Indexer {
  int rank = 0;
  bool narrow = false;  // fewer than 2^31 elements: 32-bit division, several times cheaper
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];

  __device__ __forceinline__ void offsets(int64_t i, int64_t* off) const {
    if (rank == 1) {  // contiguous operands merge to one dim: no division at all
      for (int k = 0; k < N; ++k) off[k] = i * strides[k][0];
      return;
    }
    if (narrow)
      walk(uint32_t(i), off);
    else
      walk(i, off);
  }

  // Splits i into one index per dim, in the width I of the division.
  template <class I>
  __device__ __forceinline__ void walk(I i, int64_t* off) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      I s = I(sizes[d]), j = i % s;
      i /= s;
      for (int k = 0; k < N; ++k) off[k] += int64_t(j) * strides[k][d];
    }
  }
};

// Builds the indexer of operands viewed with `shape`. Dims of size 1 are dropped and adjacent
// dims that every operand walks as one are merged (StridedLoop), because each remaining dim
// costs a 64-bit division per element.
template <int N>
Indexer<N> make_indexer(const Shape& shape, const Tensor* const (&ts)[N]) {
  std::array<std::vector<int64_t>, size_t(N)> st;
  for (int k = 0; k < N; ++k)
    st[size_t(k)].assign(ts[k]->strides().begin(), ts[k]->strides().begin() + shape.size());
  StridedLoop<size_t(N)> merged(shape, st);
  KILN_REQUIRE(merged.sizes.size() <= size_t(kMaxDims), "CUDA kernels take at most ", kMaxDims,
               " non-contiguous dims, got shape ", shape_str(shape));
  Indexer<N> ix;
  ix.rank = int(merged.sizes.size());
  int64_t n = 1;
  for (int64_t s : merged.sizes) n *= s;
  ix.narrow = n < (int64_t(1) << 31);
  for (int d = 0; d < ix.rank; ++d) {
    ix.sizes[d] = merged.sizes[size_t(d)];
    for (int k = 0; k < N; ++k) ix.strides[k][d] = merged.strides[size_t(k)][size_t(d)];
  }
  return ix;
}

// The same indexer over 16-byte vectors of `elem`-byte elements, when every operand's last dim
// is unit-stride, a multiple of a vector long, every other stride a multiple of a vector and
// every base address 16-byte aligned; false (ix unchanged) otherwise.
template <int N>
bool vectorize(Indexer<N>& ix, const Tensor* const (&ts)[N], size_t elem) {
  int64_t v = int64_t(16 / elem), last = ix.rank - 1;
  if (elem == 0 || elem > 16 || ix.sizes[last] % v != 0) return false;
  for (int k = 0; k < N; ++k) {
    if (ix.strides[k][last] != 1 || reinterpret_cast<uintptr_t>(ts[k]->raw_data()) % 16 != 0)
      return false;
    for (int d = 0; d < last; ++d)
      if (ix.strides[k][d] % v != 0) return false;
  }
  ix.sizes[last] /= v;
  for (int k = 0; k < N; ++k)
    for (int d = 0; d < last; ++d) ix.strides[k][d] /= v;
  return true;
}

constexpr int kBlock = 256;
inline unsigned grid_for(int64_t n, int block = kBlock) {
  int64_t g = (n + block - 1) / block;
  return unsigned(g < 1 ? 1 : (g > (int64_t(1) << 30) ? (int64_t(1) << 30) : g));
}

// A flat loop over n elements that tolerates n above the grid's reach.
#define KILN_CUDA_FOR(i, n)                                                 \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(blockDim.x) * gridDim.x)

// Sum over a warp; every lane gets the total.
template <class A>
__device__ A warp_sum(A v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over a block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
template <class A>
__device__ A block_sum(A v) {
  __shared__ A part[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int w = threadIdx.x / 32, l = threadIdx.x % 32;
  __syncthreads();  // part[] may still be read from an earlier call
  if (l == 0) part[w] = v;
  __syncthreads();
  A t = A(0);
  for (int k = 0; k < int(blockDim.x / 32); ++k) t += part[k];
  return t;
}

template <class A>
__device__ A block_max(A v) {
  __shared__ A part[32];
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  int w = threadIdx.x / 32, l = threadIdx.x % 32;
  __syncthreads();
  if (l == 0) part[w] = v;
  __syncthreads();
  A t = part[0];
  for (int k = 1; k < int(blockDim.x / 32); ++k) t = max(t, part[k]);
  return t;
}

}  // namespace kiln::cuda
