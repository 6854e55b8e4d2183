#pragma once
// softmax and log_softmax over one dimension, numerically stable (the row maximum is subtracted
// before exponentiating), with fused backward kernels:
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - exp(y) * sum(dy)
// bf16/f16 compute in f32 and round once; f64 in f64.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// y is the forward output, dy its gradient.
Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim);
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim);

// Kernels see contiguous tensors viewed as [outer, n, inner] and reduce over n.
struct SoftmaxShape {
  int64_t outer, n, inner;
};
using SoftmaxFn = void (*)(bool log, const SoftmaxShape& s, const Tensor& x, const Tensor& out);
using SoftmaxBackwardFn = void (*)(bool log, const SoftmaxShape& s, const Tensor& y,
                                   const Tensor& dy, const Tensor& dx);
extern Kernel<SoftmaxFn> softmax_kernel;
extern Kernel<SoftmaxBackwardFn> softmax_backward_kernel;

namespace cpu {
void softmax(bool log, const SoftmaxShape& s, const Tensor& x, const Tensor& out);
void softmax_backward(bool log, const SoftmaxShape& s, const Tensor& y, const Tensor& dy,
                      const Tensor& dx);
}  // namespace cpu

}  // namespace kiln::ops
