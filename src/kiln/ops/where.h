#pragma once
// Comparisons (giving u8 masks) and selection by mask, with broadcasting.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };
Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);  // u8
// out = cond ? a : b; cond u8; a and b share a dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// Kernels: operands already expanded to out's shape.
using CompareFn = void (*)(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);
using WhereFn = void (*)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
extern Kernel<CompareFn> compare_kernel;
extern Kernel<WhereFn> where_kernel;

namespace cpu {
void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
}  // namespace cpu

}  // namespace kiln::ops
