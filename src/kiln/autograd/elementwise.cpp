// Differentiable binary and scalar arithmetic. Gradients of broadcast inputs are summed back to
// the input's shape with ops::sum_to.
#include <cmath>

#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/unary.h"
#include "kiln/ops/where.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

namespace {

Tensor reduce_to(const Tensor& g, const Tensor& like) {
  return g.defined() ? ops::sum_to(g, like.sizes()) : Tensor();
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = ops::add(a, b);
  if (!needs_grad({a, b})) return y;
  return record("add", {a, b}, y, [a = a.detach(), b = b.detach()](const G& g) {
    return G{reduce_to(g[0], a), reduce_to(g[0], b)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = ops::sub(a, b);
  if (!needs_grad({a, b})) return y;
  return record("sub", {a, b}, y, [a = a.detach(), b = b.detach()](const G& g) {
    return G{reduce_to(g[0], a), reduce_to(ops::scale(g[0], -1.0), b)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = ops::mul(a, b);
  if (!needs_grad({a, b})) return y;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("mul", {a, b}, y, [a = a.detach(), b = b.detach(), ga, gb](const G& g) {
    return G{ga ? reduce_to(ops::mul(g[0], b), a) : Tensor(),
             gb ? reduce_to(ops::mul(g[0], a), b) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = ops::div(a, b);
  if (!needs_grad({a, b})) return y;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("div", {a, b}, y,
                [a = a.detach(), b = b.detach(), y = y.detach(), ga, gb](const G& g) {
                  Tensor gy_b = ops::div(g[0], b);
                  return G{ga ? reduce_to(gy_b, a) : Tensor(),
                           gb ? reduce_to(ops::scale(ops::mul(gy_b, y), -1.0), b) : Tensor()};
                });
}

namespace {

// max/min: the gradient goes to the input that was chosen (a on ties, as its mask says).
Tensor minmax(ops::BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor y = ops::binary(op, a, b);
  if (!needs_grad({a, b})) return y;
  return record(name, {a, b}, y, [a = a.detach(), b = b.detach(), y = y.detach()](const G& g) {
    Tensor take_a = ops::compare(ops::CompareOp::Eq, a.expand(y.sizes()), y);
    Tensor zero = Tensor::zeros({}, g[0].dtype(), g[0].device());
    return G{reduce_to(ops::where(take_a, g[0], zero), a),
             reduce_to(ops::where(take_a, zero, g[0]), b)};
  });
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return minmax(ops::BinaryOp::Maximum, "maximum", a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return minmax(ops::BinaryOp::Minimum, "minimum", a, b);
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor y = ops::binary(ops::BinaryOp::Pow, a, b);
  if (!needs_grad({a, b})) return y;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(
      "pow", {a, b}, y, [a = a.detach(), b = b.detach(), y = y.detach(), ga, gb](const G& g) {
        // d/da a^b = b a^(b-1);  d/db a^b = a^b log a
        Tensor da, db;
        if (ga)
          da = reduce_to(
              ops::mul(g[0], ops::mul(b, ops::binary(ops::BinaryOp::Pow, a, ops::shift(b, -1.0)))),
              a);
        if (gb) db = reduce_to(ops::mul(g[0], ops::mul(y, ops::unary(ops::UnaryOp::Log, a))), b);
        return G{da, db};
      });
}

Tensor add_scalar(const Tensor& x, double s) {
  Tensor y = ops::shift(x, s);
  if (!needs_grad({x})) return y;
  return record("add_scalar", {x}, y, [](const G& g) { return G{g[0]}; });
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor y = ops::scale(x, s);
  if (!needs_grad({x})) return y;
  return record("mul_scalar", {x}, y, [s](const G& g) { return G{ops::scale(g[0], s)}; });
}

Tensor pow_scalar(const Tensor& x, double p) {
  Tensor y = ops::pow_scalar(x, p);
  if (!needs_grad({x})) return y;
  return record("pow_scalar", {x}, y, [x = x.detach(), p](const G& g) {
    return G{ops::mul(g[0], ops::scale(ops::pow_scalar(x, p - 1.0), p))};
  });
}

}  // namespace kiln
