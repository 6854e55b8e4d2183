#pragma once
// Linear (y = x W^T + b, W [out, in], as torch.nn.Linear) and Embedding (a row lookup).
#include "kiln/nn/module.h"

namespace kiln::nn {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, DType dt = DType::F32);
  Tensor forward(const Tensor& x) const;
  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias
};

class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, DType dt = DType::F32);
  // ids (i32/i64, any shape) -> [..., dim]
  Tensor forward(const Tensor& ids) const;

  Tensor weight;  // [num, dim]
};

}  // namespace kiln::nn
