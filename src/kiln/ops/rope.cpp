#include "kiln/ops/rope.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<RopeFn> rope_kernel{"rope", &cpu::rope};

namespace {

Tensor run(const char* op, const Tensor& x_in, const Tensor& cos, const Tensor& sin, bool inverse) {
  check_defined(op, x_in, "x");
  check_defined(op, cos, "cos");
  check_defined(op, sin, "sin");
  check_dim(op, x_in, 4, "x");
  check_dim(op, cos, 3, "cos");
  check_float(op, x_in);
  check_float(op, cos);
  check_float(op, sin);
  check_same_device(op, x_in, cos);
  check_same_device(op, x_in, sin);
  KILN_REQUIRE(cos.sizes() == sin.sizes(), op, ": cos ", shape_str(cos.sizes()), " and sin ",
               shape_str(sin.sizes()), " differ");
  int64_t B = x_in.size(0), T = x_in.size(2), D = x_in.size(3), half = cos.size(2);
  KILN_REQUIRE((cos.size(0) == B || cos.size(0) == 1) && cos.size(1) == T && 2 * half <= D, op,
               ": cos/sin ", shape_str(cos.sizes()), " do not fit x ", shape_str(x_in.sizes()),
               " (expected [", B, " or 1, ", T, ", R/2] with R <= ", D, ")");
  Tensor x = x_in.size(3) <= 1 || x_in.stride(3) == 1 ? x_in : x_in.contiguous();
  DType ct = x.dtype() == DType::F64 ? DType::F64 : DType::F32;
  Tensor out = Tensor::empty(x.sizes(), x.dtype(), x.device());
  if (out.numel() > 0)
    rope_kernel.get(x.device())(x, cos.to(ct).contiguous(), sin.to(ct).contiguous(), inverse, out);
  return out;
}

}  // namespace

Tensor rope(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  return run("rope", x, cos, sin, false);
}

Tensor rope_backward(const Tensor& dy, const Tensor& cos, const Tensor& sin) {
  return run("rope backward", dy, cos, sin, true);
}

}  // namespace kiln::ops
