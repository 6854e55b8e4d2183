#pragma once
// Embedding lookup: weight [V, D], ids (i32 or i64, any shape) -> [..., D], a row gather. Its
// backward scatter-adds each gradient row into the row of its id. An id outside [0, V) throws
// kiln::Error naming the id and V.
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

Tensor embedding(const Tensor& weight, const Tensor& ids);
// dy [..., D] with ids' leading shape -> dweight [vocab, D] of dy's dtype.
Tensor embedding_backward(const Tensor& dy, const Tensor& ids, int64_t vocab);

// Kernels: ids validated and contiguous; weight and dy contiguous with rows of D elements.
using EmbeddingFn = void (*)(const Tensor& weight, const Tensor& ids, const Tensor& out);
using EmbeddingBackwardFn = void (*)(const Tensor& dy, const Tensor& ids, const Tensor& dweight);
extern Kernel<EmbeddingFn> embedding_kernel;
extern Kernel<EmbeddingBackwardFn> embedding_backward_kernel;

namespace cpu {
void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out);
void embedding_backward(const Tensor& dy, const Tensor& ids, const Tensor& dweight);
}  // namespace cpu

}  // namespace kiln::ops
