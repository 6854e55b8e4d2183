#pragma once
// Views of a tensor as a matrix of rows over its last dim, for row-wise kernels.
#include "kiln/core/tensor.h"

namespace kiln::ops {

// t as [rows, t.size(-1)] with unit stride in the last dim: a view when the leading dims collapse
// into one stride, else a contiguous copy.
Tensor as_rows(const Tensor& t);

}  // namespace kiln::ops
