#pragma once
// Inverted dropout with counter-based randomness: element i (in row-major order) is zeroed when the
// Philox word of counter offset + i under `seed` falls below p * 2^32, and kept ones are scaled by
// 1/(1-p). The mask is a pure function of (seed, offset), so results do not depend on threads and
// backward re-applies the same mask to the gradient (dropout(dy, p, seed, offset)) without storing
// it.
#include <cstdint>

#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);

// Kernel: x and out contiguous, same shape and dtype.
using DropoutFn = void (*)(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                           const Tensor& out);
extern Kernel<DropoutFn> dropout_kernel;

namespace cpu {
void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out);
}

}  // namespace kiln::ops
