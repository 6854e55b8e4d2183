// RMSNorm and LayerNorm over the last dim on the GPU: a block per row for the statistics and the
// write (and dx in backward); weight and bias gradients are column sums over rows, one thread per
// column walking down the rows in a fixed order, so they do not depend on scheduling.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/norm.h"

namespace kiln::cuda {
namespace {

template <class T>
using acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class T, class A>
__device__ A param(const T* p, int64_t d, A fill) {
  return p ? load<A>(p + d) : fill;
}

template <class T>
__global__ void rms_fwd(const T* x, const T* w, double eps, T* y, acc<T>* rstd, int64_t D) {
  using A = acc<T>;
  int64_t base = int64_t(blockIdx.x) * D;
  A ss = A(0);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    A v = load<A>(x + base + d);
    ss += v * v;
  }
  ss = block_sum(ss);
  A r = A(1) / sqrt(ss / A(D) + A(eps));
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
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
template <class T>
__global__ void rms_bwd_dx(const T* dy, const T* x, const T* w, const acc<T>* rstd, T* dx,
                           int64_t D) {
  using A = acc<T>;
  int64_t base = int64_t(blockIdx.x) * D;
  A r = rstd[blockIdx.x], dot = A(0);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    dot += load<A>(dy + base + d) * param(w, d, A(1)) * load<A>(x + base + d);
  dot = block_sum(dot);
  A c = r * r * dot / A(D);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    A gw = load<A>(dy + base + d) * param(w, d, A(1));
    store(dx + base + d, r * (gw - load<A>(x + base + d) * c));
  }
}

// dweight[d] = sum over rows of dy x r
template <class T>
__global__ void rms_bwd_dw(const T* dy, const T* x, const acc<T>* rstd, T* dw, int64_t rows,
                           int64_t D) {
  using A = acc<T>;
  KILN_CUDA_FOR(d, D) {
    A s = A(0);
    for (int64_t i = 0; i < rows; ++i)
      s += load<A>(dy + i * D + d) * load<A>(x + i * D + d) * rstd[i];
    store(dw + d, s);
  }
}

template <class T>
__global__ void ln_fwd(const T* x, const T* w, const T* b, double eps, T* y, acc<T>* mean,
                       acc<T>* rstd, int64_t D) {
  using A = acc<T>;
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
__global__ void ln_bwd_dx(const T* dy, const T* x, const T* w, const acc<T>* mean,
                          const acc<T>* rstd, T* dx, int64_t D) {
  using A = acc<T>;
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

template <class T>
__global__ void ln_bwd_params(const T* dy, const T* x, const acc<T>* mean, const acc<T>* rstd,
                              T* dw, T* db, int64_t rows, int64_t D) {
  using A = acc<T>;
  KILN_CUDA_FOR(d, D) {
    A sw = A(0), sb = A(0);
    for (int64_t i = 0; i < rows; ++i) {
      A g = load<A>(dy + i * D + d);
      sw += g * (load<A>(x + i * D + d) - mean[i]) * rstd[i];
      sb += g;
    }
    if (dw) store(dw + d, sw);
    if (db) store(db + d, sb);
  }
}

template <class T>
dev_t<T>* opt(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

int threads_for(int64_t D) {
  return D >= 1024 ? 1024 : (D >= 256 ? 256 : 128);
}

void rms_norm(const Tensor& x, const Tensor& weight, double eps, const Tensor& y,
              const Tensor& rstd) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  if (rows == 0) return;
  visit_float(x.dtype(), "rms_norm", [&](auto v) {
    using T = decltype(v);
    rms_fwd<<<unsigned(rows), threads_for(D), 0, stream()>>>(
        ptr<T>(x), opt<T>(weight), eps, ptr<T>(y), static_cast<acc<T>*>(rstd.raw_data()), D);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::rms_norm_kernel, rms_norm);

void rms_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dx, const Tensor& dweight) {
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  visit_float(x.dtype(), "rms_norm backward", [&](auto v) {
    using T = decltype(v);
    auto r = static_cast<const acc<T>*>(rstd.raw_data());
    if (dx.defined() && rows) {
      rms_bwd_dx<<<unsigned(rows), threads_for(D), 0, stream()>>>(ptr<T>(dy), ptr<T>(x),
                                                                  opt<T>(weight), r, ptr<T>(dx), D);
      KILN_CUDA_LAUNCHED();
    }
    if (dweight.defined()) {
      rms_bwd_dw<<<grid_for(D), kBlock, 0, stream()>>>(ptr<T>(dy), ptr<T>(x), r, ptr<T>(dweight),
                                                       rows, D);
      KILN_CUDA_LAUNCHED();
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
        static_cast<acc<T>*>(mean.raw_data()), static_cast<acc<T>*>(rstd.raw_data()), D);
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
    auto m = static_cast<const acc<T>*>(mean.raw_data());
    auto r = static_cast<const acc<T>*>(rstd.raw_data());
    if (dx.defined() && rows) {
      ln_bwd_dx<<<unsigned(rows), threads_for(D), 0, stream()>>>(
          ptr<T>(dy), ptr<T>(x), opt<T>(weight), m, r, ptr<T>(dx), D);
      KILN_CUDA_LAUNCHED();
    }
    if (dweight.defined() || dbias.defined()) {
      ln_bwd_params<<<grid_for(D), kBlock, 0, stream()>>>(ptr<T>(dy), ptr<T>(x), m, r,
                                                          opt<T>(dweight), opt<T>(dbias), rows, D);
      KILN_CUDA_LAUNCHED();
    }
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::layer_norm_backward_kernel, layer_norm_backward);

}  // namespace
}  // namespace kiln::cuda
