#pragma once
// Elementwise binary ops with NumPy broadcasting. Both inputs share one dtype; bf16/f16 compute in
// f32 and round once.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Minimum, Pow };
const char* binary_op_name(BinaryOp op);

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
inline Tensor add(const Tensor& a, const Tensor& b) {
  return binary(BinaryOp::Add, a, b);
}
inline Tensor sub(const Tensor& a, const Tensor& b) {
  return binary(BinaryOp::Sub, a, b);
}
inline Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(BinaryOp::Mul, a, b);
}
inline Tensor div(const Tensor& a, const Tensor& b) {
  return binary(BinaryOp::Div, a, b);
}
// out += b in place (b broadcast to out's shape); used for gradient accumulation.
void add_(const Tensor& out, const Tensor& b);

// Sums g over the dimensions that broadcasting added or expanded, giving a tensor of `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

// Kernel: a and b are already expanded to out's shape (strides may be 0).
using BinaryFn = void (*)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
extern Kernel<BinaryFn> binary_kernel;

namespace cpu {
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
}

}  // namespace kiln::ops
