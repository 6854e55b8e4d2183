#include "kiln/nn/mlp.h"

#include "kiln/autograd/functions.h"

namespace kiln::nn {

Activation parse_activation(const std::string& s, const std::string& field) {
  if (s == "silu" || s == "swish") return Activation::SiLU;
  if (s == "gelu") return Activation::GELU;
  if (s == "gelu_pytorch_tanh" || s == "gelu_new") return Activation::GELUTanh;
  if (s == "relu") return Activation::ReLU;
  throw Error(str(field, ": found \"", s,
                  "\", expected silu, swish, gelu, gelu_pytorch_tanh, gelu_new or relu"));
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::SiLU:
      return "silu";
    case Activation::GELU:
      return "gelu";
    case Activation::GELUTanh:
      return "gelu_pytorch_tanh";
    case Activation::ReLU:
      return "relu";
  }
  return "?";
}

Tensor activate(Activation a, const Tensor& x) {
  switch (a) {
    case Activation::SiLU:
      return silu(x);
    case Activation::GELU:
      return gelu(x);
    case Activation::GELUTanh:
      return gelu_tanh(x);
    case Activation::ReLU:
      return relu(x);
  }
  return x;
}

FfnKind parse_ffn_kind(const std::string& s, const std::string& field) {
  if (s == "glu") return FfnKind::Glu;
  if (s == "mlp") return FfnKind::Mlp;
  throw Error(str(field, ": found \"", s, "\", expected \"glu\" or \"mlp\""));
}

const char* ffn_kind_name(FfnKind k) {
  return k == FfnKind::Glu ? "glu" : "mlp";
}

Mlp::Mlp(const MlpConfig& c, DType dt) : c_(c) {
  if (c.kind == FfnKind::Glu)
    gate_proj = register_module("gate_proj",
                                std::make_unique<Linear>(c.hidden, c.intermediate, c.bias, dt));
  up_proj =
      register_module("up_proj", std::make_unique<Linear>(c.hidden, c.intermediate, c.bias, dt));
  down_proj =
      register_module("down_proj", std::make_unique<Linear>(c.intermediate, c.hidden, c.bias, dt));
}

Tensor Mlp::forward(const Tensor& x) const {
  if (c_.kind == FfnKind::Mlp) return down_proj->forward(activate(c_.act, up_proj->forward(x)));
  Tensor g = gate_proj->forward(x), u = up_proj->forward(x);
  Tensor h = c_.act == Activation::SiLU ? swiglu(g, u) : activate(c_.act, g) * u;
  return down_proj->forward(h);
}

}  // namespace kiln::nn
