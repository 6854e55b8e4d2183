#pragma once
// Normalizations over the last dimension: RMSNorm (Llama/Qwen, weight only) and LayerNorm
// (weight and bias). Norm picks one by kind so a model's norm type is a config field.
#include <memory>
#include <string>

#include "kiln/nn/module.h"

namespace kiln::nn {

enum class NormKind : uint8_t { RMSNorm, LayerNorm };
// "rmsnorm" or "layernorm"; throws kiln::Error naming `field` otherwise.
NormKind parse_norm_kind(const std::string& s, const std::string& field = "norm_type");
const char* norm_kind_name(NormKind k);

class Norm : public Module {
 public:
  Norm(NormKind kind, int64_t dim, double eps, DType dt = DType::F32);
  Tensor forward(const Tensor& x) const;
  NormKind kind() const { return kind_; }

  Tensor weight;  // [dim], ones at init
  Tensor bias;    // [dim] for LayerNorm, zeros at init

 private:
  NormKind kind_;
  double eps_;
};

}  // namespace kiln::nn
