// kiln side of cases_nn.py.
#include "harness.h"
#include "kiln/autograd/functions.h"

namespace kiln::test {
namespace {

using V = std::vector<Tensor>;
using J = nlohmann::json;

// Input i when present, else an undefined tensor.
Tensor opt_input(const V& x, size_t i) {
  return i < x.size() ? x[i] : Tensor();
}

RegisterOp rms_norm_op("rms_norm", [](const V& x, const J& p) {
  return V{rms_norm(x[0], opt_input(x, 1), p["eps"])};
});

RegisterOp layer_norm_op("layer_norm", [](const V& x, const J& p) {
  size_t i = 1;
  Tensor w = p["weight"].get<bool>() ? x[i++] : Tensor();
  Tensor b = p["bias"].get<bool>() ? x[i++] : Tensor();
  return V{layer_norm(x[0], w, b, p["eps"])};
});

RegisterOp swiglu_op("swiglu", [](const V& x, const J&) { return V{swiglu(x[0], x[1])}; });
RegisterOp swiglu_fused_op("swiglu_fused", [](const V& x, const J&) {
  int64_t f = x[0].size(-1) / 2;
  return V{swiglu(narrow(x[0], -1, 0, f), narrow(x[0], -1, f, f))};
});

RegisterOp rope_op("rope", [](const V& x, const J&) { return V{rope(x[0], x[1], x[2])}; });
RegisterOp rope_bthd_op("rope_bthd", [](const V& x, const J&) {
  return V{rope(transpose(x[0], 1, 2), x[1], x[2])};
});

RegisterOp attention_op("attention", [](const V& x, const J& p) {
  AttentionOptions o;
  o.causal = p.value("causal", true);
  o.scale = p.value("scale", 0.0);
  o.window = p.value("window", int64_t(0));
  o.q_offset = p.value("q_offset", int64_t(-1));
  size_t i = 3;
  if (p.value("bias", false)) o.bias = x[i++];
  if (p.value("key_padding", false)) o.key_padding = x[i++];
  return V{attention(x[0], x[1], x[2], o)};
});

RegisterOp attention_bthd_op("attention_bthd", [](const V& x, const J&) {
  return V{attention(transpose(x[0], 1, 2), transpose(x[1], 1, 2), transpose(x[2], 1, 2))};
});

RegisterOp cross_entropy_op("cross_entropy", [](const V& x, const J& p) {
  CrossEntropyOptions o;
  o.ignore_index = p.value("ignore_index", int64_t(-100));
  o.label_smoothing = p.value("label_smoothing", 0.0);
  o.z_loss = p.value("z_loss", 0.0);
  o.focal_gamma = p.value("focal_gamma", 0.0);
  return V{cross_entropy(x[0], x[1], o)};
});

}  // namespace
}  // namespace kiln::test
