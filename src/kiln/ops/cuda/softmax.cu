// softmax / log_softmax and their backward over the middle dim of [outer, n, inner]. With inner 1
// (the reduced dim innermost, the common case) a block takes a row: max, sum of exp, write. With
// inner > 1 a thread takes a column and walks down n (neighbouring threads read neighbouring
// columns, so loads stay coalesced).
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/softmax.h"

namespace kiln::cuda {
namespace {

using ops::SoftmaxShape;

template <class T>
__global__ void rows_fwd(bool log_, int64_t n, const T* x, T* y) {
  using A = acc_t<T>;
  const T* xr = x + blockIdx.x * n;
  T* yr = y + blockIdx.x * n;
  A m = A(-INFINITY);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = max(m, load<A>(xr + i));
  m = block_max(m);
  A s = A(0);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += exp(load<A>(xr + i) - m);
  s = block_sum(s);
  A ls = log(s), inv = A(1) / s;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    A v = load<A>(xr + i) - m;
    store(yr + i, log_ ? v - ls : exp(v) * inv);
  }
}

// softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y) sum(dy)
template <class T>
__global__ void rows_bwd(bool log_, int64_t n, const T* y, const T* dy, T* dx) {
  using A = acc_t<T>;
  int64_t base = int64_t(blockIdx.x) * n;
  A s = A(0);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    s += log_ ? load<A>(dy + base + i) : load<A>(dy + base + i) * load<A>(y + base + i);
  s = block_sum(s);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    A yv = load<A>(y + base + i), g = load<A>(dy + base + i);
    store(dx + base + i, log_ ? g - exp(yv) * s : yv * (g - s));
  }
}

template <class T>
__global__ void cols_fwd(bool log_, SoftmaxShape s, const T* x, T* y) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(c, s.outer * s.inner) {
    int64_t base = (c / s.inner) * s.n * s.inner + c % s.inner;
    A m = A(-INFINITY), sum = A(0);
    for (int64_t i = 0; i < s.n; ++i) m = max(m, load<A>(x + base + i * s.inner));
    for (int64_t i = 0; i < s.n; ++i) sum += exp(load<A>(x + base + i * s.inner) - m);
    A ls = log(sum), inv = A(1) / sum;
    for (int64_t i = 0; i < s.n; ++i) {
      A v = load<A>(x + base + i * s.inner) - m;
      store(y + base + i * s.inner, log_ ? v - ls : exp(v) * inv);
    }
  }
}

template <class T>
__global__ void cols_bwd(bool log_, SoftmaxShape s, const T* y, const T* dy, T* dx) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(c, s.outer * s.inner) {
    int64_t base = (c / s.inner) * s.n * s.inner + c % s.inner;
    A sum = A(0);
    for (int64_t i = 0; i < s.n; ++i) {
      int64_t k = base + i * s.inner;
      sum += log_ ? load<A>(dy + k) : load<A>(dy + k) * load<A>(y + k);
    }
    for (int64_t i = 0; i < s.n; ++i) {
      int64_t k = base + i * s.inner;
      A yv = load<A>(y + k), g = load<A>(dy + k);
      store(dx + k, log_ ? g - exp(yv) * sum : yv * (g - sum));
    }
  }
}

void softmax(bool log_, const SoftmaxShape& s, const Tensor& x, const Tensor& out) {
  if (s.outer * s.n * s.inner == 0) return;
  visit_float(x.dtype(), "softmax", [&](auto v) {
    using T = decltype(v);
    if (s.inner == 1)
      rows_fwd<<<unsigned(s.outer), 256, 0, stream()>>>(log_, s.n, ptr<T>(x), ptr<T>(out));
    else
      cols_fwd<<<grid_for(s.outer * s.inner), kBlock, 0, stream()>>>(log_, s, ptr<T>(x),
                                                                     ptr<T>(out));
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::softmax_kernel, softmax);

void softmax_backward(bool log_, const SoftmaxShape& s, const Tensor& y, const Tensor& dy,
                      const Tensor& dx) {
  if (s.outer * s.n * s.inner == 0) return;
  visit_float(y.dtype(), "softmax backward", [&](auto v) {
    using T = decltype(v);
    if (s.inner == 1)
      rows_bwd<<<unsigned(s.outer), 256, 0, stream()>>>(log_, s.n, ptr<T>(y), ptr<T>(dy),
                                                        ptr<T>(dx));
    else
      cols_bwd<<<grid_for(s.outer * s.inner), kBlock, 0, stream()>>>(log_, s, ptr<T>(y), ptr<T>(dy),
                                                                     ptr<T>(dx));
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::softmax_backward_kernel, softmax_backward);

}  // namespace
}  // namespace kiln::cuda
