#include "kiln/ops/cross_entropy.h"

#include <cmath>

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<CrossEntropyFn> cross_entropy_kernel{"cross_entropy", &cpu::cross_entropy};
Kernel<CrossEntropyBackwardFn> cross_entropy_backward_kernel{"cross_entropy_backward",
                                                             &cpu::cross_entropy_backward};

namespace {

// Checks shapes and every target; returns the number of rows not ignored.
int64_t check_args(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p) {
  const char* op = "cross_entropy";
  check_defined(op, logits, "logits");
  check_defined(op, targets, "targets");
  check_dim(op, logits, 2, "logits");
  check_dim(op, targets, 1, "targets");
  check_float(op, logits);
  check_same_device(op, logits, targets);
  KILN_REQUIRE(targets.dtype() == DType::I32 || targets.dtype() == DType::I64, op,
               ": targets must be i32 or i64, got ", dtype_name(targets.dtype()));
  KILN_REQUIRE(targets.size(0) == logits.size(0), op, ": ", targets.size(0), " targets for ",
               logits.size(0), " rows of logits ", shape_str(logits.sizes()));
  KILN_REQUIRE(logits.size(1) > 0, op, ": logits ", shape_str(logits.sizes()), " have no classes");
  KILN_REQUIRE(p.label_smoothing >= 0 && p.label_smoothing <= 1, op,
               ": label_smoothing must be in [0, 1], got ", p.label_smoothing);
  KILN_REQUIRE(std::isfinite(p.z_loss) && p.z_loss >= 0, op,
               ": z_loss must be finite and >= 0, got ", p.z_loss);
  KILN_REQUIRE(std::isfinite(p.focal_gamma) && p.focal_gamma >= 0, op,
               ": focal_gamma must be finite and >= 0, got ", p.focal_gamma);
  KILN_REQUIRE(p.focal_gamma == 0 || p.label_smoothing == 0, op,
               ": focal_gamma and label_smoothing cannot both be set (found ", p.focal_gamma,
               " and ", p.label_smoothing, ")");
  int64_t V = logits.size(1), n_valid = 0;
  for (int64_t t : targets.to_vector<int64_t>()) {
    if (t == p.ignore_index) continue;
    KILN_REQUIRE(t >= 0 && t < V, op, ": target ", t, " is out of range for ", V,
                 " classes (and is not ignore_index ", p.ignore_index, ")");
    ++n_valid;
  }
  return n_valid;
}

Tensor rows_unit(const Tensor& t) {
  return t.size(1) <= 1 || t.stride(1) == 1 ? t : t.contiguous();
}

}  // namespace

CrossEntropyOut cross_entropy(const Tensor& logits, const Tensor& targets,
                              const CrossEntropyParams& p) {
  CrossEntropyOut o;
  o.n_valid = check_args(logits, targets, p);
  DType st = logits.dtype() == DType::F64 ? DType::F64 : DType::F32;
  o.loss = Tensor::zeros({}, logits.dtype(), logits.device());
  o.lse = Tensor::zeros({logits.size(0)}, st, logits.device());
  if (o.n_valid > 0)
    cross_entropy_kernel.get(logits.device())(rows_unit(logits), targets.contiguous(), p, o.n_valid,
                                              o.loss, o.lse);
  return o;
}

Tensor cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                              const CrossEntropyOut& fwd, const CrossEntropyParams& p) {
  check_defined("cross_entropy backward", dloss, "dloss");
  KILN_REQUIRE(dloss.numel() == 1, "cross_entropy backward: dloss must be a scalar, got ",
               shape_str(dloss.sizes()));
  if (fwd.n_valid == 0) return Tensor::zeros(logits.sizes(), logits.dtype(), logits.device());
  Tensor d = Tensor::empty(logits.sizes(), logits.dtype(), logits.device());
  cross_entropy_backward_kernel.get(logits.device())(dloss, rows_unit(logits), targets.contiguous(),
                                                     fwd.lse, p, fwd.n_valid, d);
  return d;
}

}  // namespace kiln::ops
