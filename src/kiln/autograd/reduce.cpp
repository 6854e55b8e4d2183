// Differentiable reductions.
#include "kiln/ops/reduce.h"
#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/unary.h"

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

}  // namespace kiln
