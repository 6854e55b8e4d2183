#pragma once
// Normalizations over the last dimension, with their fused backward.
//
// rms_norm: y = x * rsqrt(mean(x^2) + eps) * weight, as Hugging Face's Llama RMSNorm: statistics in
// f32 (f64 for f64), and for bf16/f16 the normalized x is rounded to the input type before the
// weight multiplies it.
// layer_norm: as torch.nn.functional.layer_norm, y = (x - mean) * rstd * weight + bias with the
// biased variance and rstd = 1 / sqrt(var + eps), statistics in f32 (f64 for f64), one rounding.
// An undefined weight (or bias) means none.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

struct RmsNormOut {
  Tensor y;     // x's shape and dtype
  Tensor rstd;  // x's shape without the last dim; f32 (f64 for f64 x)
};
struct RmsNormGrads {
  Tensor dx, dweight;
};

RmsNormOut rms_norm(const Tensor& x, const Tensor& weight, double eps);
// Computes only the gradients asked for; the others are left undefined.
RmsNormGrads rms_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                               const Tensor& rstd, bool need_dx, bool need_dweight);

// Kernels see x and dy contiguous as [rows, D]; dx or dweight undefined when not wanted.
using RmsNormFn = void (*)(const Tensor& x, const Tensor& weight, double eps, const Tensor& y,
                           const Tensor& rstd);
using RmsNormBackwardFn = void (*)(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                   const Tensor& rstd, const Tensor& dx, const Tensor& dweight);
extern Kernel<RmsNormFn> rms_norm_kernel;
extern Kernel<RmsNormBackwardFn> rms_norm_backward_kernel;

namespace cpu {
void rms_norm(const Tensor& x, const Tensor& weight, double eps, const Tensor& y,
              const Tensor& rstd);
void rms_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dx, const Tensor& dweight);
}  // namespace cpu

struct LayerNormOut {
  Tensor y;           // x's shape and dtype
  Tensor mean, rstd;  // x's shape without the last dim; f32 (f64 for f64 x)
};
struct LayerNormGrads {
  Tensor dx, dweight, dbias;
};

LayerNormOut layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// Computes only the gradients asked for; the others are left undefined.
LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                   const LayerNormOut& fwd, bool need_dx, bool need_dweight,
                                   bool need_dbias);

// Kernels see x and dy contiguous as [rows, D]; undefined outputs are not wanted.
using LayerNormFn = void (*)(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                             const Tensor& y, const Tensor& mean, const Tensor& rstd);
using LayerNormBackwardFn = void (*)(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                     const Tensor& mean, const Tensor& rstd, const Tensor& dx,
                                     const Tensor& dweight, const Tensor& dbias);
extern Kernel<LayerNormFn> layer_norm_kernel;
extern Kernel<LayerNormBackwardFn> layer_norm_backward_kernel;

namespace cpu {
void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& rstd);
void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx,
                         const Tensor& dweight, const Tensor& dbias);
}  // namespace cpu

}  // namespace kiln::ops
