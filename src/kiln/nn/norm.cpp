#include "kiln/nn/norm.h"

#include "kiln/autograd/functions.h"

namespace kiln::nn {

NormKind parse_norm_kind(const std::string& s, const std::string& field) {
  if (s == "rmsnorm") return NormKind::RMSNorm;
  if (s == "layernorm") return NormKind::LayerNorm;
  throw Error(str(field, ": found \"", s, "\", expected \"rmsnorm\" or \"layernorm\""));
}

const char* norm_kind_name(NormKind k) {
  return k == NormKind::RMSNorm ? "rmsnorm" : "layernorm";
}

Norm::Norm(NormKind kind, int64_t dim, double eps, DType dt) : kind_(kind), eps_(eps) {
  weight = Tensor::ones({dim}, dt);
  register_parameter("weight", &weight, Init::Ones);
  if (kind == NormKind::LayerNorm) {
    bias = Tensor::zeros({dim}, dt);
    register_parameter("bias", &bias, Init::Zeros);
  }
}

Tensor Norm::forward(const Tensor& x) const {
  if (kind_ == NormKind::RMSNorm) return rms_norm(x, weight, eps_);
  return layer_norm(x, weight, bias, eps_);
}

}  // namespace kiln::nn
