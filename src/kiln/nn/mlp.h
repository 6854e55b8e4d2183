#pragma once
// Feed-forward blocks. A gated MLP ("glu") computes down(act(gate(x)) * up(x)): SwiGLU with silu
// (Llama, Qwen, Mistral), GeGLU with gelu. A plain MLP ("mlp") computes down(act(up(x))), e.g. the
// GELU MLP of GPT-2. Tensor names follow Llama: gate_proj, up_proj, down_proj.
#include <string>

#include "kiln/nn/linear.h"

namespace kiln::nn {

enum class Activation : uint8_t { SiLU, GELU, GELUTanh, ReLU };
// Hugging Face hidden_act names: silu (swish), gelu, gelu_pytorch_tanh (gelu_new), relu.
Activation parse_activation(const std::string& s, const std::string& field = "hidden_act");
const char* activation_name(Activation a);
Tensor activate(Activation a, const Tensor& x);

enum class FfnKind : uint8_t { Glu, Mlp };
FfnKind parse_ffn_kind(const std::string& s, const std::string& field = "ffn_kind");
const char* ffn_kind_name(FfnKind k);

struct MlpConfig {
  int64_t hidden = 0;
  int64_t intermediate = 0;
  FfnKind kind = FfnKind::Glu;
  Activation act = Activation::SiLU;
  bool bias = false;
};

class Mlp : public Module {
 public:
  explicit Mlp(const MlpConfig& c, DType dt = DType::F32);
  Tensor forward(const Tensor& x) const;

  Linear* gate_proj = nullptr;  // glu only
  Linear* up_proj;
  Linear* down_proj;

 private:
  MlpConfig c_;
};

}  // namespace kiln::nn
