#pragma once
// Joining and splitting along one dimension. split returns views of its input (no copy).
#include <vector>

#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

// All tensors share dtype, device, rank and every size but the one along `dim`.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Pieces of x along `dim` with the given sizes, which must sum to x.size(dim).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);

// Kernel: xs contiguous, out contiguous; `dim` already wrapped.
using ConcatFn = void (*)(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out);
extern Kernel<ConcatFn> concat_kernel;

namespace cpu {
void concat(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out);
}

}  // namespace kiln::ops
