// Differentiable reductions.
#include "kiln/ops/reduce.h"
#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/softmax.h"
#include "kiln/ops/unary.h"
#include "kiln/ops/where.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

namespace {

// The reduced dims of x as kept size-1 dims, so a gradient can be broadcast back.
Shape kept(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape s = x.sizes();
  if (dims.empty()) return Shape(s.size(), 1);
  for (int64_t d : dims) s[size_t(x.wrap_dim(d))] = 1;
  return s;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = ops::sum(x, dims, keepdim);
  if (!needs_grad({x})) return y;
  Shape k = kept(x, dims), in = x.sizes();
  return record("sum", {x}, y, [k, in](const G& g) { return G{g[0].reshape(k).expand(in)}; });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = ops::mean(x, dims, keepdim);
  if (!needs_grad({x})) return y;
  Shape k = kept(x, dims), in = x.sizes();
  double n = double(x.numel()) / double(std::max<int64_t>(1, numel_of(k)));
  return record("mean", {x}, y, [k, in, n](const G& g) {
    return G{ops::scale(g[0].reshape(k), 1.0 / n).expand(in)};
  });
}

// The gradient goes to the first maximum only: a one-hot mask along `dim` from the argmax.
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  ops::MaxResult r = ops::max(x, dim, keepdim);
  if (!needs_grad({x})) return r.values;
  int64_t d = x.wrap_dim(dim);
  Shape k = kept(x, {d}), in = x.sizes();
  return record("max", {x}, r.values, [idx = r.indices.reshape(k), k, in, d](const G& g) {
    Shape pos(in.size(), 1);
    pos[size_t(d)] = in[size_t(d)];
    Tensor at = Tensor::arange(in[size_t(d)], DType::I64, g[0].device()).reshape(pos);
    Tensor hit = ops::compare(ops::CompareOp::Eq, at, idx);
    Tensor zero = Tensor::zeros({}, g[0].dtype(), g[0].device());
    return G{ops::where(hit, g[0].reshape(k), zero)};
  });
}

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::softmax(x, dim);
  if (!needs_grad({x})) return y;
  return record("softmax", {x}, y, [y = y.detach(), dim](const G& g) {
    return G{ops::softmax_backward(y, g[0], dim)};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::log_softmax(x, dim);
  if (!needs_grad({x})) return y;
  return record("log_softmax", {x}, y, [y = y.detach(), dim](const G& g) {
    return G{ops::log_softmax_backward(y, g[0], dim)};
  });
}

}  // namespace kiln
