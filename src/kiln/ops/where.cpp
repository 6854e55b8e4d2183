#include "kiln/ops/where.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<CompareFn> compare_kernel{"compare", &cpu::compare};
Kernel<WhereFn> where_kernel{"where", &cpu::where};

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  check_same_device("compare", a, b);
  check_same_dtype("compare", a, b);
  Shape s = broadcast_shapes(a.sizes(), b.sizes(), "compare");
  Tensor out = Tensor::empty(s, DType::U8, a.device());
  compare_kernel.get(a.device())(op, a.expand(s), b.expand(s), out);
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  KILN_REQUIRE(cond.dtype() == DType::U8, "where: condition must be u8, got ",
               dtype_name(cond.dtype()));
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  check_same_dtype("where", a, b);
  Shape s =
      broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor out = Tensor::empty(s, a.dtype(), a.device());
  where_kernel.get(a.device())(cond.expand(s), a.expand(s), b.expand(s), out);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor v = Tensor::full({}, value, x.dtype(), x.device());
  Tensor y = where(mask, v, x);
  KILN_REQUIRE(y.sizes() == x.sizes(), "masked_fill: mask ", shape_str(mask.sizes()),
               " does not broadcast to ", shape_str(x.sizes()));
  return y;
}

}  // namespace kiln::ops
