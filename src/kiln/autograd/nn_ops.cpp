// Differentiable model ops whose backward is one fused kernel (kiln/ops/norm.h, swiglu.h, rope.h,
// attention.h, cross_entropy.h) rather than a chain of recorded elementwise ops: each saves what
// its kernel needs (inputs and per-row statistics) and records a single node.
#include "kiln/autograd/functions.h"
#include "kiln/ops/attention.h"
#include "kiln/ops/cross_entropy.h"
#include "kiln/ops/norm.h"
#include "kiln/ops/rope.h"
#include "kiln/ops/swiglu.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

namespace {

Tensor detached(const Tensor& t) {
  return t.defined() ? t.detach() : t;
}
bool wants(const Tensor& t) {
  return t.defined() && t.requires_grad();
}

}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  ops::RmsNormOut f = ops::rms_norm(x, weight, eps);
  if (!needs_grad({x, weight})) return f.y;
  return record("rms_norm", {x, weight}, f.y,
                [x = x.detach(), w = detached(weight), rstd = f.rstd, gx = wants(x),
                 gw = wants(weight)](const G& g) {
                  ops::RmsNormGrads d = ops::rms_norm_backward(g[0], x, w, rstd, gx, gw);
                  return G{d.dx, d.dweight};
                });
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ops::LayerNormOut f = ops::layer_norm(x, weight, bias, eps);
  if (!needs_grad({x, weight, bias})) return f.y;
  Tensor y = f.y;
  f.y = Tensor();  // the backward needs only the statistics
  return record("layer_norm", {x, weight, bias}, y,
                [x = x.detach(), w = detached(weight), f, gx = wants(x), gw = wants(weight),
                 gb = wants(bias)](const G& g) {
                  ops::LayerNormGrads d = ops::layer_norm_backward(g[0], x, w, f, gx, gw, gb);
                  return G{d.dx, d.dweight, d.dbias};
                });
}

Tensor swiglu(const Tensor& gate, const Tensor& up) {
  Tensor y = ops::swiglu(gate, up);
  if (!needs_grad({gate, up})) return y;
  return record(
      "swiglu", {gate, up}, y,
      [gate = gate.detach(), up = up.detach(), gg = wants(gate), gu = wants(up)](const G& g) {
        ops::SwigluGrads d = ops::swiglu_backward(g[0], gate, up, gg, gu);
        return G{d.dgate, d.dup};
      });
}

Tensor rope(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  Tensor y = ops::rope(x, cos, sin);
  if (!needs_grad({x})) return y;
  return record("rope", {x}, y, [cos = cos.detach(), sin = sin.detach()](const G& g) {
    return G{ops::rope_backward(g[0], cos, sin)};
  });
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt) {
  ops::AttentionParams p{opt.causal,   opt.scale,          opt.window,
                         opt.q_offset, detached(opt.bias), opt.key_padding};
  ops::AttentionOut f = ops::attention(q, k, v, p);
  if (!needs_grad({q, k, v})) return f.out;
  bool gq = wants(q), gk = wants(k), gv = wants(v);
  Tensor out = f.out;
  f.out = out.detach();
  return record("attention", {q, k, v}, out,
                [q = q.detach(), k = k.detach(), v = v.detach(), f, p, gq, gk, gv](const G& g) {
                  ops::AttentionGrads d = ops::attention_backward(g[0], q, k, v, f, p);
                  return G{gq ? d.dq : Tensor(), gk ? d.dk : Tensor(), gv ? d.dv : Tensor()};
                });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt) {
  ops::CrossEntropyParams p{opt.ignore_index, opt.label_smoothing, opt.z_loss, opt.focal_gamma};
  ops::CrossEntropyOut f = ops::cross_entropy(logits, targets, p);
  if (!needs_grad({logits})) return f.loss;
  Tensor loss = f.loss;
  f.loss = Tensor();
  return record("cross_entropy", {logits}, loss,
                [logits = logits.detach(), targets, f, p](const G& g) {
                  return G{ops::cross_entropy_backward(g[0], logits, targets, f, p)};
                });
}

}  // namespace kiln
