#include "kiln/ops/optim.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<AdamWFn> adamw_kernel{"adamw_update", &cpu::adamw_update};
Kernel<MomentumFn> momentum_kernel{"momentum_update", &cpu::momentum_update};

namespace {
void check_state(const char* op, const Tensor& p, const Tensor& t, const char* what) {
  KILN_REQUIRE(t.sizes() == p.sizes() && t.dtype() == DType::F32 && t.device() == p.device() &&
                   t.is_contiguous(),
               op, ": ", what, " must be a contiguous f32 tensor of shape ", shape_str(p.sizes()),
               " on ", p.device().str(), ", got ", dtype_name(t.dtype()), " ",
               shape_str(t.sizes()));
}
}  // namespace

void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                  const AdamWStep& s) {
  check_state("adamw_update", p, p, "the parameter");
  check_state("adamw_update", p, g, "the gradient");
  check_state("adamw_update", p, m, "the first moment");
  check_state("adamw_update", p, v, "the second moment");
  KILN_REQUIRE(s.step >= 1, "adamw_update: step must be >= 1, got ", s.step);
  adamw_kernel.get(p.device())(p, g, m, v, s);
}

void momentum_update(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                     double momentum, bool nesterov, double weight_decay) {
  check_state("momentum_update", p, p, "the parameter");
  check_state("momentum_update", p, g, "the gradient");
  check_state("momentum_update", p, buf, "the momentum buffer");
  momentum_kernel.get(p.device())(p, g, buf, lr, momentum, nesterov, weight_decay);
}

}  // namespace kiln::ops
