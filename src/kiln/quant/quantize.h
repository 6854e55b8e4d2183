#pragma once
// Whole-tensor quantization to the GGUF block formats (Q8_0, Q4_0, Q4_K) and back. Rows run along
// the last dimension, whose size must be a multiple of the format's block size.
#include "kiln/core/tensor.h"

namespace kiln::quant {

// Quantizes a floating tensor (any rank >= 1, any float dtype, on the CPU) row by row. Throws
// kiln::Error for a non-block target type, a last dimension that is not a multiple of the block
// size, or a non-finite value (naming the row).
Tensor quantize(const Tensor& x, DType type);
// Expands a block-quantized tensor to `out` (a floating dtype), same shape.
Tensor dequantize(const Tensor& q, DType out = DType::F32);

}  // namespace kiln::quant
