#include "kiln/ops/unary.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<UnaryFn> unary_kernel{"unary", &cpu::unary};
Kernel<UnaryBackwardFn> unary_backward_kernel{"unary_backward", &cpu::unary_backward};

const char* unary_op_name(UnaryOp op) {
  static const char* names[] = {"neg",       "exp",     "log",   "sqrt",  "rsqrt",
                                "tanh",      "sigmoid", "relu",  "silu",  "gelu",
                                "gelu_tanh", "abs",     "scale", "shift", "pow_scalar"};
  return names[int(op)];
}

Tensor unary(UnaryOp op, const Tensor& x, double p) {
  const char* name = unary_op_name(op);
  check_defined(name, x, "x");
  check_float(name, x);
  Tensor out = Tensor::empty(x.sizes(), x.dtype(), x.device());
  unary_kernel.get(x.device())(op, p, x, out);
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, double p) {
  const char* name = unary_op_name(op);
  check_defined(name, dy, "dy");
  KILN_REQUIRE(x.sizes() == dy.sizes() && y.sizes() == dy.sizes(), name,
               " backward: shapes differ: x ", shape_str(x.sizes()), ", y ", shape_str(y.sizes()),
               ", dy ", shape_str(dy.sizes()));
  Tensor dx = Tensor::empty(x.sizes(), x.dtype(), x.device());
  unary_backward_kernel.get(x.device())(op, p, x, y, dy, dx);
  return dx;
}

}  // namespace kiln::ops
