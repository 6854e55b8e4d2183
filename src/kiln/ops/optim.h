#pragma once
// Fused in-place optimizer updates, one kernel per backend (a CUDA backend runs them as
// multi-tensor kernels). All tensors of one call share shape and are f32.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

struct AdamWStep {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based, for bias correction
};
// p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * m_hat / (sqrt(v_hat) + eps)
void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                  const AdamWStep& s);
// buf = momentum*buf + g; p -= lr * (nesterov ? g + momentum*buf : buf); with decoupled decay.
void momentum_update(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                     double momentum, bool nesterov, double weight_decay);

using AdamWFn = void (*)(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                         const AdamWStep& s);
using MomentumFn = void (*)(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                            double momentum, bool nesterov, double weight_decay);
extern Kernel<AdamWFn> adamw_kernel;
extern Kernel<MomentumFn> momentum_kernel;

namespace cpu {
void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                  const AdamWStep& s);
void momentum_update(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                     double momentum, bool nesterov, double weight_decay);
}  // namespace cpu

}  // namespace kiln::ops
