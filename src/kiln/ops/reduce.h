#pragma once
// Reductions over a set of dimensions. sum and mean accumulate in f64 for f64 inputs and in f32
// otherwise; max returns values and the index of the first maximum.
#include <vector>

#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

enum class ReduceOp { Sum, Mean, Max };

// Empty `dims` reduces every dimension.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
struct MaxResult {
  Tensor values;
  Tensor indices;  // i64, index along `dim`
};
MaxResult max(const Tensor& x, int64_t dim, bool keepdim = false);

// Kernel: `out` has keepdim shape; for Max, `indices` (i64, same shape) is filled too and
// exactly one dim is reduced.
using ReduceFn = void (*)(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                          const Tensor& out, const Tensor& indices);
extern Kernel<ReduceFn> reduce_kernel;

namespace cpu {
void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
            const Tensor& indices);
}

}  // namespace kiln::ops
