// Fused cross-entropy on the GPU, a block per row: one pass for the row's max, one for the sum of
// exp (and the row sum under label smoothing); no [N, V] log-probabilities are stored. Row losses
// go to an f64 buffer that one block then sums in row order, so the loss does not depend on
// scheduling. Backward writes each dlogits row in one pass from the saved log-sum-exp:
//   dlogits[j] = g / n_valid * (softmax[j] (1 + 2 z lse) - eps / V - (1 - eps) [j == target]),
// with the focal variant as the CPU backend derives it (src/kiln/ops/cpu/cross_entropy.cpp).
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cross_entropy.h"
#include "kiln/ops/kernel.h"

namespace kiln::cuda {
namespace {

struct CeArgs {
  int64_t V, row_stride, ignore;
  double eps, z, gamma, inv_n;
};

template <class I>
__device__ int64_t target_at(const I* t, int64_t i) {
  return int64_t(t[i]);
}

// f = dL/dlp of the focal term at lp = log p_t (see the CPU backend for the derivation).
template <class A>
__device__ A focal_dlp(A lp, A gamma) {
  A q = -expm1(lp), qg = pow(q, gamma);
  A first = q > A(0) ? gamma * qg / q * exp(lp) * lp : A(0);
  return first - qg;
}

// Calls f(j, x[j]) for every j in [0, V) of a row this thread walks (j = threadIdx.x + k
// blockDim.x, in 16-byte vectors when the row is aligned for them, so the row is read in wide
// loads), in a fixed order per thread.
template <class A, class T, class F>
__device__ void for_row(const T* x, int64_t V, F&& f) {
  constexpr int kV = 16 / sizeof(T);
  int64_t nv = reinterpret_cast<uintptr_t>(x) % 16 == 0 ? V / kV : 0;
  for (int64_t q = threadIdx.x; q < nv; q += blockDim.x) {
    uint4 raw = reinterpret_cast<const uint4*>(x)[q];
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int k = 0; k < kV; ++k) f(q * kV + k, load<A>(e + k));
  }
  for (int64_t j = nv * kV + threadIdx.x; j < V; j += blockDim.x) f(j, load<A>(x + j));
}

// One pass over the row: each thread keeps a running maximum and the sum of exp(x - max),
// rescaled when the maximum grows; the block then combines them.
template <class T, class I>
__global__ void ce_fwd_k(const T* logits, const I* targets, CeArgs a, acc_t<T>* lse, double* rows) {
  using A = acc_t<T>;
  int64_t i = blockIdx.x, t = target_at(targets, i);
  const T* x = logits + i * a.row_stride;
  if (t == a.ignore) {
    if (threadIdx.x == 0) lse[i] = A(0), rows[i] = 0;
    return;
  }
  A m = A(-INFINITY), s = A(0), sx = A(0);
  for_row<A>(x, a.V, [&](int64_t, A v) {
    if (v > m) {
      s = s * exp(m - v) + A(1);
      m = v;
    } else {
      s += exp(v - m);
    }
    sx += v;
  });
  A bm = block_max(m);
  s = block_sum(m == A(-INFINITY) ? A(0) : s * exp(m - bm));
  m = bm;
  if (a.eps != 0) sx = block_sum(sx);
  if (threadIdx.x != 0) return;
  A l = m + log(s), xt = load<A>(x + t);
  lse[i] = l;
  A row = (A(1) - A(a.eps)) * (l - xt);
  if (a.gamma != 0) row *= pow(-expm1(xt - l), A(a.gamma));
  if (a.eps != 0) row += A(a.eps) * (l - sx / A(a.V));
  if (a.z != 0) row += A(a.z) * l * l;
  rows[i] = double(row);
}

template <class T>
__global__ void ce_total_k(const double* rows, int64_t n, double inv_n, T* loss) {
  double s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += rows[i];
  s = block_sum(s);
  if (threadIdx.x == 0) store(loss, acc_t<T>(s * inv_n));
}

template <class T, class I>
__global__ void ce_bwd_k(const T* dloss, const T* logits, const I* targets, const acc_t<T>* lse,
                         CeArgs a, T* dlogits) {
  using A = acc_t<T>;
  int64_t i = blockIdx.x, t = target_at(targets, i);
  T* d = dlogits + i * a.V;
  if (t == a.ignore) {
    for (int64_t j = threadIdx.x; j < a.V; j += blockDim.x) store(d + j, A(0));
    return;
  }
  const T* x = logits + i * a.row_stride;
  A c = load<A>(dloss) * A(a.inv_n), l = lse[i];
  A f = a.gamma != 0 ? focal_dlp(load<A>(x + t) - l, A(a.gamma)) : -(A(1) - A(a.eps));
  A scale = c * (A(2) * A(a.z) * l + (a.gamma != 0 ? -f : A(1))), shift = c * A(a.eps) / A(a.V);
  auto grad = [&](int64_t j, A v) { return exp(v - l) * scale - shift + (j == t ? c * f : A(0)); };
  // 16-byte loads and stores where both rows are aligned for them, as for_row.
  constexpr int kV = 16 / sizeof(T);
  bool vec = reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(d) % 16 == 0;
  int64_t nv = vec ? a.V / kV : 0;
  for (int64_t q = threadIdx.x; q < nv; q += blockDim.x) {
    uint4 raw = reinterpret_cast<const uint4*>(x)[q], out;
    const T* e = reinterpret_cast<const T*>(&raw);
    T* o = reinterpret_cast<T*>(&out);
#pragma unroll
    for (int k = 0; k < kV; ++k) store(o + k, grad(q * kV + k, load<A>(e + k)));
    reinterpret_cast<uint4*>(d)[q] = out;
  }
  for (int64_t j = nv * kV + threadIdx.x; j < a.V; j += blockDim.x)
    store(d + j, grad(j, load<A>(x + j)));
}

template <class F>
void with_targets(const Tensor& t, F&& f) {
  if (t.dtype() == DType::I32)
    f(ptr<int32_t>(t));
  else
    f(ptr<int64_t>(t));
}

CeArgs args_for(const Tensor& logits, const ops::CrossEntropyParams& p, int64_t n_valid) {
  return {logits.size(1), logits.stride(0), p.ignore_index,       p.label_smoothing,
          p.z_loss,       p.focal_gamma,    1.0 / double(n_valid)};
}

void cross_entropy(const Tensor& logits, const Tensor& targets, const ops::CrossEntropyParams& p,
                   int64_t n_valid, const Tensor& loss, const Tensor& lse) {
  int64_t N = logits.size(0);
  CeArgs a = args_for(logits, p, n_valid);
  Tensor rows = Tensor::empty({std::max<int64_t>(N, 1)}, DType::F64, logits.device());
  visit_float(logits.dtype(), "cross_entropy", [&](auto v) {
    using T = decltype(v);
    if (N) {
      with_targets(targets, [&](auto* tp) {
        ce_fwd_k<<<unsigned(N), 256, 0, stream()>>>(
            ptr<T>(logits), tp, a, static_cast<acc_t<T>*>(lse.raw_data()), ptr<double>(rows));
        KILN_CUDA_LAUNCHED();
      });
    }
    ce_total_k<<<1, 1024, 0, stream()>>>(ptr<double>(rows), N, a.inv_n, ptr<T>(loss));
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::cross_entropy_kernel, cross_entropy);

void cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                            const Tensor& lse, const ops::CrossEntropyParams& p, int64_t n_valid,
                            const Tensor& dlogits) {
  int64_t N = logits.size(0);
  if (N == 0) return;
  CeArgs a = args_for(logits, p, n_valid);
  visit_float(logits.dtype(), "cross_entropy backward", [&](auto v) {
    using T = decltype(v);
    Tensor g = dloss.to(logits.dtype()).contiguous();
    with_targets(targets, [&](auto* tp) {
      ce_bwd_k<<<unsigned(N), 256, 0, stream()>>>(ptr<T>(g), ptr<T>(logits), tp,
                                                  static_cast<const acc_t<T>*>(lse.raw_data()), a,
                                                  ptr<T>(dlogits));
      KILN_CUDA_LAUNCHED();
    });
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::cross_entropy_backward_kernel, cross_entropy_backward);

}  // namespace
}  // namespace kiln::cuda
