// Differentiable unary functions, selection and dropout.
#include "kiln/ops/unary.h"
#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/dropout.h"
#include "kiln/ops/where.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

namespace {

Tensor unary_fn(ops::UnaryOp op, const char* name, const Tensor& x) {
  Tensor y = ops::unary(op, x);
  if (!needs_grad({x})) return y;
  return record(name, {x}, y, [op, x = x.detach(), y = y.detach()](const G& g) {
    return G{ops::unary_backward(op, x, y, g[0])};
  });
}

}  // namespace

Tensor neg(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Neg, "neg", x);
}
Tensor exp(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Exp, "exp", x);
}
Tensor log(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Log, "log", x);
}
Tensor sqrt(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Sqrt, "sqrt", x);
}
Tensor rsqrt(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Rsqrt, "rsqrt", x);
}
Tensor tanh(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Tanh, "tanh", x);
}
Tensor sigmoid(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Sigmoid, "sigmoid", x);
}
Tensor relu(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Relu, "relu", x);
}
Tensor silu(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Silu, "silu", x);
}
Tensor gelu(const Tensor& x) {
  return unary_fn(ops::UnaryOp::Gelu, "gelu", x);
}
Tensor gelu_tanh(const Tensor& x) {
  return unary_fn(ops::UnaryOp::GeluTanh, "gelu_tanh", x);
}

// The gradient of each branch is the output gradient where that branch was taken, summed back
// over the dims it was broadcast along.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor y = ops::where(cond, a, b);
  if (!needs_grad({a, b})) return y;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("where", {cond, a, b}, y,
                [cond = cond.detach(), sa = a.sizes(), sb = b.sizes(), ga, gb](const G& g) {
                  Tensor zero = Tensor::zeros({}, g[0].dtype(), g[0].device());
                  Tensor da, db;
                  if (ga) da = ops::sum_to(ops::where(cond, g[0], zero), sa);
                  if (gb) db = ops::sum_to(ops::where(cond, zero, g[0]), sb);
                  return G{Tensor(), da, db};
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor y = ops::masked_fill(x, mask, value);
  if (!needs_grad({x})) return y;
  return record("masked_fill", {x, mask}, y, [mask = mask.detach()](const G& g) {
    return G{ops::masked_fill(g[0], mask, 0.0), Tensor()};
  });
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  KILN_REQUIRE(p >= 0 && p <= 1, "dropout: probability ", p, " is outside [0, 1]");
  if (!training || p == 0) return x;
  uint64_t seed = gen.seed(), offset = gen.take(uint64_t(x.numel()));
  Tensor y = ops::dropout(x, p, seed, offset);
  if (!needs_grad({x})) return y;
  return record("dropout", {x}, y,
                [p, seed, offset](const G& g) { return G{ops::dropout(g[0], p, seed, offset)}; });
}

}  // namespace kiln
