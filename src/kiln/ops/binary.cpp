#include "kiln/ops/binary.h"

#include "kiln/ops/check.h"
#include "kiln/ops/reduce.h"

namespace kiln::ops {

Kernel<BinaryFn> binary_kernel{"binary", &cpu::binary};

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "add";
    case BinaryOp::Sub:
      return "sub";
    case BinaryOp::Mul:
      return "mul";
    case BinaryOp::Div:
      return "div";
    case BinaryOp::Maximum:
      return "maximum";
    case BinaryOp::Minimum:
      return "minimum";
    case BinaryOp::Pow:
      return "pow";
  }
  return "binary";
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  check_defined(name, a, "a");
  check_defined(name, b, "b");
  check_same_device(name, a, b);
  check_same_dtype(name, a, b);
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  binary_kernel.get(a.device())(op, a.expand(shape), b.expand(shape), out);
  return out;
}

void add_(const Tensor& out, const Tensor& b) {
  check_same_device("add_", out, b);
  check_same_dtype("add_", out, b);
  Shape shape = broadcast_shapes(out.sizes(), b.sizes(), "add_");
  KILN_REQUIRE(shape == out.sizes(), "add_: cannot add shape ", shape_str(b.sizes()),
               " into shape ", shape_str(out.sizes()));
  binary_kernel.get(out.device())(BinaryOp::Add, out, b.expand(shape), out);
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.sizes() == shape) return g;
  int64_t lead = g.dim() - int64_t(shape.size());
  KILN_CHECK(lead >= 0, "sum_to: target ", shape_str(shape), " has more dims than ",
             shape_str(g.sizes()));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.size(d) != 1)) dims.push_back(d);
  Tensor s = sum(g, dims, true);
  return s.reshape(shape);
}

}  // namespace kiln::ops
