// RMSNorm and LayerNorm over the last dim on the GPU: a block per row for the statistics and the
// write (and dx in backward); weight and bias gradients are column sums over rows in two passes
// (partial sums of fixed row chunks, then the chunks added in order), so they do not depend on
// scheduling and still spread over the whole GPU when there are few columns (QK-norm: 64 or 128
// columns over batch x seq x heads rows).
#include <algorithm>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/norm.h"

namespace kiln::cuda {
namespace {

template <class T, class A>
__device__ A param(const T* p, int64_t d, A fill) {
  return p ? load<A>(p + d) : fill;
}

// Which row a thread works on and how it walks it: a block per row, or for short rows (QK-norm's
// 64 or 128) a warp per row, kRowWarps rows to a block, so no block sits mostly idle.
constexpr int kRowWarps = 8;
template <bool kWarp>
struct RowWalk {
  int64_t row;
  int first, step;
  __device__ RowWalk()
      : row(kWarp ? int64_t(blockIdx.x) * kRowWarps + threadIdx.x / 32 : int64_t(blockIdx.x)),
        first(kWarp ? int(threadIdx.x % 32) : int(threadIdx.x)),
        step(kWarp ? 32 : int(blockDim.x)) {}
  template <class A>
  __device__ A sum(A v) const {
    if constexpr (kWarp)
      return warp_sum(v);
    else
      return block_sum(v);
  }
};

template <class T, bool kWarp>
__global__ void rms_fwd(const T* x, const T* w, double eps, T* y, acc_t<T>* rstd, int64_t rows,
                        int64_t D) {
  using A = acc_t<T>;
  RowWalk<kWarp> rw;
  if (rw.row >= rows) return;  // whole warps only (warp mode has no block barrier)
  int64_t base = rw.row * D;
  A ss = A(0);
  for (int64_t d = rw.first; d < D; d += rw.step) {
    A v = load<A>(x + base + d);
    ss += v * v;
  }
  ss = rw.sum(ss);
  A r = A(1) / sqrt(ss / A(D) + A(eps));
  if (rw.first == 0) rstd[rw.row] = r;
  for (int64_t d = rw.first; d < D; d += rw.step) {
    A xn = load<A>(x + base + d) * r;
    if constexpr (!std::is_same_v<T, A>) {  // Hugging Face rounds x r to the input type first
      T t;
      store(&t, xn);
      xn = load<A>(&t);
    }
    store(y + base + d, xn * param(w, d, A(1)));
  }
}

// dx = r (gw - x r^2 mean(gw x)) with gw = dy w
template <class T, bool kWarp>
__global__ void rms_bwd_dx(const T* dy, const T* x, const T* w, const acc_t<T>* rstd, T* dx,
                           int64_t rows, int64_t D) {
  using A = acc_t<T>;
  RowWalk<kWarp> rw;
  if (rw.row >= rows) return;
  int64_t base = rw.row * D;
  A r = rstd[rw.row], dot = A(0);
  for (int64_t d = rw.first; d < D; d += rw.step)
    dot += load<A>(dy + base + d) * param(w, d, A(1)) * load<A>(x + base + d);
  dot = rw.sum(dot);
  A c = r * r * dot / A(D);
  for (int64_t d = rw.first; d < D; d += rw.step) {
    A gw = load<A>(dy + base + d) * param(w, d, A(1));
    store(dx + base + d, r * (gw - load<A>(x + base + d) * c));
  }
}

// Column sums of K quantities f(i, d) -> A[K] over rows i, pass one: block (x: 32 columns, y: 8
// lanes) per column tile and row chunk; each lane walks its rows of the chunk, the 8 lanes are
// added in lane order, and the chunk's sums go to part[(chunk K + k) D + d].
constexpr int kColTile = 32, kColLanes = 8;

template <int K, class A, class F>
__global__ void colsum_chunks(F f, int64_t rows, int64_t D, int64_t chunk, A* part) {
  __shared__ A sh[K][kColLanes][kColTile];
  int64_t d = int64_t(blockIdx.x) * kColTile + threadIdx.x;
  int64_t r0 = int64_t(blockIdx.y) * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
  A s[K] = {};
  if (d < D)
    for (int64_t i = r0 + threadIdx.y; i < r1; i += kColLanes) {
      A v[K];
      f(i, d, v);
      for (int k = 0; k < K; ++k) s[k] += v[k];
    }
  for (int k = 0; k < K; ++k) sh[k][threadIdx.y][threadIdx.x] = s[k];
  __syncthreads();
  if (threadIdx.y == 0 && d < D)
    for (int k = 0; k < K; ++k) {
      A t = A(0);
      for (int l = 0; l < kColLanes; ++l) t += sh[k][l][threadIdx.x];
      part[(int64_t(blockIdx.y) * K + k) * D + d] = t;
    }
}

// Pass two: each column's chunk sums added in chunk order, stored to out[k] (skipped if null).
template <int K, class A, class T>
__global__ void colsum_finish(const A* part, int64_t chunks, int64_t D, T* out0, T* out1) {
  KILN_CUDA_FOR(d, D) {
    for (int k = 0; k < K; ++k) {
      T* o = k == 0 ? out0 : out1;
      if (!o) continue;
      A t = A(0);
      for (int64_t c = 0; c < chunks; ++c) t += part[(c * K + k) * D + d];
      store(o + d, t);
    }
  }
}

// out0[d] (and out1[d] when K is 2) = sum over rows of f(i, d)[k]. The chunking depends only on
// rows and D, so the result is the same on every run.
template <int K, class T, class F>
void column_sums(F f, int64_t rows, int64_t D, const Tensor& like, T* out0, T* out1 = nullptr) {
  using A = acc_t<std::remove_cv_t<T>>;
  if (D == 0) return;
  int64_t tiles = (D + kColTile - 1) / kColTile;
  // About a thousand blocks in all, and chunks of at least 64 rows.
  int64_t chunks = std::max<int64_t>(1, std::min((rows + 63) / 64, 1024 / tiles));
  int64_t chunk = std::max<int64_t>(1, (rows + chunks - 1) / chunks);
  chunks = std::max<int64_t>(1, (rows + chunk - 1) / chunk);
  Tensor part = Tensor::empty({chunks * K, D}, dtype_of<A>::value, like.device());
  colsum_chunks<K>
      <<<dim3(unsigned(tiles), unsigned(chunks)), dim3(kColTile, kColLanes), 0, stream()>>>(
          f, rows, D, chunk, static_cast<A*>(part.raw_data()));
  KILN_CUDA_LAUNCHED();
  colsum_finish<K><<<grid_for(D), kBlock, 0, stream()>>>(static_cast<const A*>(part.raw_data()),
                                                         chunks, D, out0, out1);
  KILN_CUDA_LAUNCHED();
}

// dweight[d] = sum over rows of dy x r
template <class T>
struct RmsDw {
  const T *dy, *x;
  const acc_t<T>* rstd;
  int64_t D;
  __device__ void operator()(int64_t i, int64_t d, acc_t<T>* v) const {
    using A = acc_t<T>;
    v[0] = load<A>(dy + i * D + d) * load<A>(x + i * D + d) * rstd[i];
  }
};

template <class T>
__global__ void ln_fwd(const T* x, const T* w, const T* b, double eps, T* y, acc_t<T>* mean,
                       acc_t<T>* rstd, int64_t D) {
  using A = acc_t<T>;
  int64_t base = int64_t(blockIdx.x) * D;
  A s = A(0);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += load<A>(x + base + d);
  A mu = block_sum(s) / A(D), ss = A(0);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    A c = load<A>(x + base + d) - mu;
    ss += c * c;
  }
  A r = A(1) / sqrt(block_sum(ss) / A(D) + A(eps));
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = r;
  }
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    store(y + base + d, (load<A>(x + base + d) - mu) * r * param(w, d, A(1)) + param(b, d, A(0)));
}

// xh = (x - mean) r, gw = dy w: dx = r (gw - mean(gw) - xh mean(gw xh))
template <class T>
__global__ void ln_bwd_dx(const T* dy, const T* x, const T* w, const acc_t<T>* mean,
                          const acc_t<T>* rstd, T* dx, int64_t D) {
  using A = acc_t<T>;
  int64_t base = int64_t(blockIdx.x) * D;
  A mu = mean[blockIdx.x], r = rstd[blockIdx.x], s1 = A(0), s2 = A(0);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    A gw = load<A>(dy + base + d) * param(w, d, A(1));
    s1 += gw;
    s2 += gw * (load<A>(x + base + d) - mu) * r;
  }
  A c1 = block_sum(s1) / A(D), c2 = block_sum(s2) / A(D);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    A gw = load<A>(dy + base + d) * param(w, d, A(1));
    A xh = (load<A>(x + base + d) - mu) * r;
    store(dx + base + d, r * (gw - c1 - xh * c2));
  }
}

// dweight[d] = sum of dy (x - mean) r, dbias[d] = sum of dy
template <class T>
struct LnDwDb {
  const T *dy, *x;
  const acc_t<T>*mean, *rstd;
  int64_t D;
  __device__ void operator()(int64_t i, int64_t d, acc_t<T>* v) const {
    using A = acc_t<T>;
    A g = load<A>(dy + i * D + d);
    v[0] = g * (load<A>(x + i * D + d) - mean[i]) * rstd[i];
    v[1] = g;
  }
};

template <class T>
dev_t<T>* opt(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

// Rows up to this long take a warp each.
constexpr int64_t kShortRow = 256;

int threads_for(int64_t D) {
  return D >= 1024 ? 1024 : (D >= 256 ? 256 : 128);
}

void rms_norm(const Tensor& x, const Tensor& weight, double eps, const Tensor& y,
              const Tensor& rstd) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  if (rows == 0) return;
  visit_float(x.dtype(), "rms_norm", [&](auto v) {
    using T = decltype(v);
    auto* r = static_cast<acc_t<T>*>(rstd.raw_data());
    if (D <= kShortRow)
      rms_fwd<dev_t<T>, true><<<grid_for(rows, kRowWarps), kRowWarps * 32, 0, stream()>>>(
          ptr<T>(x), opt<T>(weight), eps, ptr<T>(y), r, rows, D);
    else
      rms_fwd<dev_t<T>, false><<<unsigned(rows), threads_for(D), 0, stream()>>>(
          ptr<T>(x), opt<T>(weight), eps, ptr<T>(y), r, rows, D);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::rms_norm_kernel, rms_norm);

void rms_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dx, const Tensor& dweight) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  visit_float(x.dtype(), "rms_norm backward", [&](auto v) {
    using T = decltype(v);
    auto r = static_cast<const acc_t<T>*>(rstd.raw_data());
    if (dx.defined() && rows) {
      if (D <= kShortRow)
        rms_bwd_dx<dev_t<T>, true><<<grid_for(rows, kRowWarps), kRowWarps * 32, 0, stream()>>>(
            ptr<T>(dy), ptr<T>(x), opt<T>(weight), r, ptr<T>(dx), rows, D);
      else
        rms_bwd_dx<dev_t<T>, false><<<unsigned(rows), threads_for(D), 0, stream()>>>(
            ptr<T>(dy), ptr<T>(x), opt<T>(weight), r, ptr<T>(dx), rows, D);
      KILN_CUDA_LAUNCHED();
    }
    if (dweight.defined()) {
      column_sums<1>(RmsDw<dev_t<T>>{ptr<T>(dy), ptr<T>(x), r, D}, rows, D, x, ptr<T>(dweight));
    }
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::rms_norm_backward_kernel, rms_norm_backward);

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  if (rows == 0) return;
  visit_float(x.dtype(), "layer_norm", [&](auto v) {
    using T = decltype(v);
    ln_fwd<<<unsigned(rows), threads_for(D), 0, stream()>>>(
        ptr<T>(x), opt<T>(weight), opt<T>(bias), eps, ptr<T>(y),
        static_cast<acc_t<T>*>(mean.raw_data()), static_cast<acc_t<T>*>(rstd.raw_data()), D);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::layer_norm_kernel, layer_norm);

void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx,
                         const Tensor& dweight, const Tensor& dbias) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  visit_float(x.dtype(), "layer_norm backward", [&](auto v) {
    using T = decltype(v);
    auto m = static_cast<const acc_t<T>*>(mean.raw_data());
    auto r = static_cast<const acc_t<T>*>(rstd.raw_data());
    if (dx.defined() && rows) {
      ln_bwd_dx<<<unsigned(rows), threads_for(D), 0, stream()>>>(
          ptr<T>(dy), ptr<T>(x), opt<T>(weight), m, r, ptr<T>(dx), D);
      KILN_CUDA_LAUNCHED();
    }
    if (dweight.defined() || dbias.defined()) {
      column_sums<2>(LnDwDb<dev_t<T>>{ptr<T>(dy), ptr<T>(x), m, r, D}, rows, D, x, opt<T>(dweight),
                     opt<T>(dbias));
    }
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::layer_norm_backward_kernel, layer_norm_backward);

}  // namespace
}  // namespace kiln::cuda
