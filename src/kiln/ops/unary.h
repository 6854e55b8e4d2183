#pragma once
// Elementwise unary ops, including the scalar ops (scale, shift, pow by a constant), and their
// backward: unary_backward(op, x, y, dy) = dy * f'(x), using y = f(x) where that is cheaper.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

enum class UnaryOp {
  Neg,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Tanh,
  Sigmoid,
  Relu,
  Silu,
  Gelu,
  GeluTanh,
  Abs,
  Scale,     // x * p
  Shift,     // x + p
  PowScalar  // x ^ p
};
const char* unary_op_name(UnaryOp op);

Tensor unary(UnaryOp op, const Tensor& x, double p = 0);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, double p = 0);
inline Tensor scale(const Tensor& x, double s) {
  return unary(UnaryOp::Scale, x, s);
}
inline Tensor shift(const Tensor& x, double s) {
  return unary(UnaryOp::Shift, x, s);
}
inline Tensor pow_scalar(const Tensor& x, double p) {
  return unary(UnaryOp::PowScalar, x, p);
}

using UnaryFn = void (*)(UnaryOp op, double p, const Tensor& x, const Tensor& out);
using UnaryBackwardFn = void (*)(UnaryOp op, double p, const Tensor& x, const Tensor& y,
                                 const Tensor& dy, const Tensor& dx);
extern Kernel<UnaryFn> unary_kernel;
extern Kernel<UnaryBackwardFn> unary_backward_kernel;

namespace cpu {
void unary(UnaryOp op, double p, const Tensor& x, const Tensor& out);
void unary_backward(UnaryOp op, double p, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx);
}  // namespace cpu

}  // namespace kiln::ops
