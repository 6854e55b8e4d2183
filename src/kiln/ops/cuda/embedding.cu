// Embedding on the GPU: the forward is a row gather (one thread per output element); the backward
// adds each gradient row into its id's row through atomics on an f32 (f64 for f64) accumulator,
// then rounds once into dweight. Atomic order makes the last bits of f32 sums vary run to run.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/embedding.h"
#include "kiln/ops/kernel.h"

namespace kiln::cuda {
namespace {

template <class T, class I>
__global__ void gather_k(const T* w, const I* ids, T* o, int64_t d, int64_t n) {
  KILN_CUDA_FOR(k, n) o[k] = w[int64_t(ids[k / d]) * d + k % d];
}

template <class T, class I, class A>
__global__ void scatter_add_k(const T* dy, const I* ids, A* acc, int64_t d, int64_t n) {
  KILN_CUDA_FOR(k, n) atomicAdd(acc + int64_t(ids[k / d]) * d + k % d, load<A>(dy + k));
}

template <class F>
void with_ids(const Tensor& ids, F&& f) {
  if (ids.dtype() == DType::I32)
    f(ptr<int32_t>(ids));
  else
    f(ptr<int64_t>(ids));
}

void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  int64_t d = weight.size(1), n = ids.numel() * d;
  if (n == 0) return;
  visit_dtype(weight.dtype(), [&](auto v) {
    using T = decltype(v);
    with_ids(ids, [&](auto* id) {
      gather_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(weight), id, ptr<T>(out), d, n);
      KILN_CUDA_LAUNCHED();
    });
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::embedding_kernel, embedding);

void embedding_backward(const Tensor& dy, const Tensor& ids, const Tensor& dweight) {
  int64_t d = dweight.size(1), n = ids.numel() * d;
  visit_float(dy.dtype(), "embedding_backward", [&](auto v) {
    using T = decltype(v);
    using A = acc_t<T>;
    Tensor acc = Tensor::zeros(dweight.sizes(), dtype_of<A>::value, dweight.device());
    if (n) {
      with_ids(ids, [&](auto* id) {
        scatter_add_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(dy), id,
                                                            static_cast<A*>(acc.raw_data()), d, n);
        KILN_CUDA_LAUNCHED();
      });
    }
    dweight.copy_(acc);
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::embedding_backward_kernel, embedding_backward);

}  // namespace
}  // namespace kiln::cuda
