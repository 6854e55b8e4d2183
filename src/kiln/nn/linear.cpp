#include "kiln/nn/linear.h"

#include "kiln/autograd/functions.h"

namespace kiln::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias, DType dt) {
  weight = Tensor::zeros({out, in}, dt);
  register_parameter("weight", &weight, Init::Normal);
  if (with_bias) {
    bias = Tensor::zeros({out}, dt);
    register_parameter("bias", &bias, Init::Zeros);
  }
}

Tensor Linear::forward(const Tensor& x) const {
  return linear(x, weight, bias);
}

Embedding::Embedding(int64_t num, int64_t dim, DType dt) {
  weight = Tensor::zeros({num, dim}, dt);
  register_parameter("weight", &weight, Init::Normal);
}

Tensor Embedding::forward(const Tensor& ids) const {
  return embedding(weight, ids);
}

}  // namespace kiln::nn
