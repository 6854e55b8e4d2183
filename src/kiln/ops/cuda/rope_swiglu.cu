// The two fused elementwise ops of a Llama/Qwen block: rotary embedding (one thread per rotated
// pair, rotate-half layout) and SwiGLU forward and backward (one thread per element).
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/rope.h"
#include "kiln/ops/swiglu.h"

namespace kiln::cuda {
namespace {

struct RopeDims {
  int64_t H, T, D, half, cos_batch;  // cos_batch: 0 when cos/sin broadcast over batch
  int64_t sb, sh, st;                // x's strides
};

template <class T>
__global__ void rope_k(const T* x, const acc_t<T>* c0, const acc_t<T>* s0, acc_t<T> sign, T* o,
                       RopeDims d, int64_t rows) {
  using A = acc_t<T>;
  int64_t per_row = d.half + (d.D - 2 * d.half);  // rotated pairs, then pass-through dims
  KILN_CUDA_FOR(k, rows * per_row) {
    int64_t r = k / per_row, i = k % per_row;
    int64_t t = r % d.T, h = (r / d.T) % d.H, b = r / (d.T * d.H);
    const T* xr = x + b * d.sb + h * d.sh + t * d.st;
    T* orow = o + r * d.D;
    if (i < d.half) {
      const A* c = c0 + b * d.cos_batch + t * d.half;
      const A* s = s0 + b * d.cos_batch + t * d.half;
      A x1 = load<A>(xr + i), x2 = load<A>(xr + i + d.half), si = sign * s[i];
      store(orow + i, x1 * c[i] - x2 * si);
      store(orow + i + d.half, x2 * c[i] + x1 * si);
    } else {
      int64_t j = i + d.half;  // dims 2*half .. D-1
      orow[j] = xr[j];
    }
  }
}

void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse, const Tensor& out) {
  RopeDims d{x.size(1), x.size(2),   x.size(3),   cos.size(2),
             0,         x.stride(0), x.stride(1), x.stride(2)};
  d.cos_batch = cos.size(0) == 1 ? 0 : d.T * d.half;
  int64_t rows = x.size(0) * d.H * d.T, n = rows * (d.D - d.half);
  if (n == 0) return;
  visit_float(x.dtype(), "rope", [&](auto v) {
    using T = decltype(v);
    using A = acc_t<T>;
    rope_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(x), static_cast<const A*>(cos.raw_data()),
                                                 static_cast<const A*>(sin.raw_data()),
                                                 inverse ? A(-1) : A(1), ptr<T>(out), d, rows);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::rope_kernel, rope);

// Row strides of each operand ([rows, F], unit stride in F).
struct RowStrides {
  int64_t dy, gate, up;
};

template <class T>
__global__ void swiglu_k(const T* g, const T* u, T* y, RowStrides s, int64_t F, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(k, n) {
    int64_t r = k / F, i = k % F;
    A gv = load<A>(g + r * s.gate + i), sig = A(1) / (A(1) + exp(-gv));
    T silu;  // rounded to the input type before the product, as act_fn(gate) * up
    store(&silu, gv * sig);
    store(y + k, load<A>(&silu) * load<A>(u + r * s.up + i));
  }
}

// silu'(g) = s (1 + g (1 - s)) with s = sigmoid(g)
template <class T>
__global__ void swiglu_bwd_k(const T* dy, const T* g, const T* u, T* dg, T* du, RowStrides s,
                             int64_t F, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(k, n) {
    int64_t r = k / F, i = k % F;
    A gv = load<A>(g + r * s.gate + i), uv = load<A>(u + r * s.up + i);
    A d = load<A>(dy + r * s.dy + i), sig = A(1) / (A(1) + exp(-gv));
    if (dg) store(dg + k, d * uv * sig * (A(1) + gv * (A(1) - sig)));
    if (du) store(du + k, d * gv * sig);
  }
}

void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) {
  int64_t F = gate.size(1), n = gate.size(0) * F;
  if (n == 0) return;
  RowStrides s{0, gate.stride(0), up.stride(0)};
  visit_float(gate.dtype(), "swiglu", [&](auto v) {
    using T = decltype(v);
    swiglu_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(gate), ptr<T>(up), ptr<T>(y), s, F, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::swiglu_kernel, swiglu);

void swiglu_backward(const Tensor& dy, const Tensor& gate, const Tensor& up, const Tensor& dgate,
                     const Tensor& dup) {
  int64_t F = gate.size(1), n = gate.size(0) * F;
  if (n == 0) return;
  RowStrides s{dy.stride(0), gate.stride(0), up.stride(0)};
  visit_float(gate.dtype(), "swiglu backward", [&](auto v) {
    using T = decltype(v);
    swiglu_bwd_k<<<grid_for(n), kBlock, 0, stream()>>>(
        ptr<T>(dy), ptr<T>(gate), ptr<T>(up), dgate.defined() ? ptr<T>(dgate) : nullptr,
        dup.defined() ? ptr<T>(dup) : nullptr, s, F, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::swiglu_backward_kernel, swiglu_backward);

}  // namespace
}  // namespace kiln::cuda
