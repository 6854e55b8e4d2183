#include "kiln/ops/norm.h"

#include <cmath>

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<RmsNormFn> rms_norm_kernel{"rms_norm", &cpu::rms_norm};
Kernel<RmsNormBackwardFn> rms_norm_backward_kernel{"rms_norm_backward", &cpu::rms_norm_backward};
Kernel<LayerNormFn> layer_norm_kernel{"layer_norm", &cpu::layer_norm};
Kernel<LayerNormBackwardFn> layer_norm_backward_kernel{"layer_norm_backward",
                                                       &cpu::layer_norm_backward};

namespace {

void check_input(const char* op, const Tensor& x, double eps) {
  check_defined(op, x, "x");
  check_float(op, x);
  check_min_dim(op, x, 1, "x");
  KILN_REQUIRE(x.size(-1) > 0, op, ": the normalized (last) dim of x ", shape_str(x.sizes()),
               " is empty");
  KILN_REQUIRE(std::isfinite(eps) && eps >= 0, op, ": eps must be finite and >= 0, got ", eps);
}

// weight or bias: undefined, or [D] of x's dtype and device.
void check_affine(const char* op, const Tensor& x, const Tensor& p, const char* arg) {
  if (!p.defined()) return;
  KILN_REQUIRE(p.dim() == 1 && p.size(0) == x.size(-1), op, ": '", arg, "' must be [", x.size(-1),
               "] to match x ", shape_str(x.sizes()), ", got ", shape_str(p.sizes()));
  check_same_dtype(op, x, p);
  check_same_device(op, x, p);
}

void check_grad(const char* op, const Tensor& dy, const Tensor& x) {
  check_defined(op, dy, "dy");
  KILN_REQUIRE(dy.sizes() == x.sizes() && dy.dtype() == x.dtype(), op, ": dy (",
               dtype_name(dy.dtype()), " ", shape_str(dy.sizes()), ") does not match x (",
               dtype_name(x.dtype()), " ", shape_str(x.sizes()), ")");
}

Tensor stat_like(const Tensor& x) {
  Shape s(x.sizes().begin(), x.sizes().end() - 1);
  return Tensor::empty(s, x.dtype() == DType::F64 ? DType::F64 : DType::F32, x.device());
}

Tensor contig(const Tensor& t) {
  return t.defined() ? t.contiguous() : t;
}

Tensor grad_like(bool need, const Tensor& t) {
  return need ? Tensor::empty(t.sizes(), t.dtype(), t.device()) : Tensor();
}

}  // namespace

RmsNormOut rms_norm(const Tensor& x_in, const Tensor& weight, double eps) {
  check_input("rms_norm", x_in, eps);
  check_affine("rms_norm", x_in, weight, "weight");
  Tensor x = x_in.contiguous();
  RmsNormOut o{Tensor::empty(x.sizes(), x.dtype(), x.device()), stat_like(x)};
  if (x.numel() > 0) rms_norm_kernel.get(x.device())(x, contig(weight), eps, o.y, o.rstd);
  return o;
}

RmsNormGrads rms_norm_backward(const Tensor& dy, const Tensor& x_in, const Tensor& weight,
                               const Tensor& rstd, bool need_dx, bool need_dweight) {
  check_grad("rms_norm backward", dy, x_in);
  Tensor x = x_in.contiguous();
  RmsNormGrads g{grad_like(need_dx, x), grad_like(need_dweight && weight.defined(), weight)};
  if (g.dx.defined() || g.dweight.defined())
    rms_norm_backward_kernel.get(x.device())(dy.contiguous(), x, contig(weight), rstd.contiguous(),
                                             g.dx, g.dweight);
  return g;
}

LayerNormOut layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps) {
  check_input("layer_norm", x_in, eps);
  check_affine("layer_norm", x_in, weight, "weight");
  check_affine("layer_norm", x_in, bias, "bias");
  Tensor x = x_in.contiguous();
  LayerNormOut o{Tensor::empty(x.sizes(), x.dtype(), x.device()), stat_like(x), stat_like(x)};
  if (x.numel() > 0)
    layer_norm_kernel.get(x.device())(x, contig(weight), contig(bias), eps, o.y, o.mean, o.rstd);
  return o;
}

LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x_in, const Tensor& weight,
                                   const LayerNormOut& fwd, bool need_dx, bool need_dweight,
                                   bool need_dbias) {
  check_grad("layer_norm backward", dy, x_in);
  Tensor x = x_in.contiguous();
  Tensor w = contig(weight);
  Shape d{x.size(-1)};
  LayerNormGrads g{grad_like(need_dx, x),
                   need_dweight ? Tensor::empty(d, x.dtype(), x.device()) : Tensor(),
                   need_dbias ? Tensor::empty(d, x.dtype(), x.device()) : Tensor()};
  if (g.dx.defined() || g.dweight.defined() || g.dbias.defined())
    layer_norm_backward_kernel.get(x.device())(dy.contiguous(), x, w, fwd.mean.contiguous(),
                                               fwd.rstd.contiguous(), g.dx, g.dweight, g.dbias);
  return g;
}

}  // namespace kiln::ops
