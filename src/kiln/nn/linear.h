#pragma once
// Linear (y = x W^T + b, W [out, in], as torch.nn.Linear) and Embedding (a row lookup).
#include "kiln/nn/module.h"

namespace kiln::nn {

// x W^T + bias through autograd, or, when W is a packed weight loaded for inference (Q8_0, Q4_0,
// Q4_K, or F16/BF16 beside f32 activations), through the quantized kernels (kiln/quant/matmul.h).
// Linear and the decoder's LM head both come here.
Tensor project(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, DType dt = DType::F32);
  Tensor forward(const Tensor& x) const;
  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }

  Tensor weight;  // [out, in]; may be a packed inference weight (see project)
  Tensor bias;    // [out], undefined without bias
};

class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, DType dt = DType::F32);
  // ids (i32/i64, any shape) -> [..., dim]
  Tensor forward(const Tensor& ids) const;

  Tensor weight;  // [num, dim]; a packed weight expands only the looked-up rows

 private:
  DType dtype_;  // the dtype built with; a weight of another (packed) type was loaded into it
};

}  // namespace kiln::nn
