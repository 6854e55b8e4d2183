#include "kiln/nn/linear.h"

#include "kiln/autograd/functions.h"
#include "kiln/quant/matmul.h"

namespace kiln::nn {

namespace {
bool packed_for(const Tensor& w, const Tensor& x) {
  return quant::is_packed_weight(w.dtype()) && (is_quantized(w.dtype()) || x.dtype() == DType::F32);
}
}  // namespace

Tensor project(const Tensor& x, const Tensor& w, const Tensor& bias) {
  if (packed_for(w, x)) return quant::linear(x, w, bias);
  return linear(x, w, bias);
}

Linear::Linear(int64_t in, int64_t out, bool with_bias, DType dt) {
  weight = Tensor::zeros({out, in}, dt);
  register_parameter("weight", &weight, Init::Normal);
  if (with_bias) {
    bias = Tensor::zeros({out}, dt);
    register_parameter("bias", &bias, Init::Zeros);
  }
}

Tensor Linear::forward(const Tensor& x) const {
  return project(x, weight, bias);
}

Embedding::Embedding(int64_t num, int64_t dim, DType dt) : dtype_(dt) {
  weight = Tensor::zeros({num, dim}, dt);
  register_parameter("weight", &weight, Init::Normal);
}

Tensor Embedding::forward(const Tensor& ids) const {
  if (weight.dtype() != dtype_ && quant::is_packed_weight(weight.dtype()))
    return quant::embedding(weight, ids).to(dtype_);
  return embedding(weight, ids);
}

}  // namespace kiln::nn
