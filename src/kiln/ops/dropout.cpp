#include "kiln/ops/dropout.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<DropoutFn> dropout_kernel{"dropout", &cpu::dropout};

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  check_defined("dropout", x, "x");
  check_float("dropout", x);
  KILN_REQUIRE(p >= 0 && p <= 1, "dropout: probability ", p, " is outside [0, 1]");
  Tensor out = Tensor::empty(x.sizes(), x.dtype(), x.device());
  if (out.numel() > 0) dropout_kernel.get(x.device())(x.contiguous(), p, seed, offset, out);
  return out;
}

}  // namespace kiln::ops
