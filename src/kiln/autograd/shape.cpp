// Differentiable concat and split: each one's backward is the other.
#include "kiln/ops/shape.h"
#include "kiln/autograd/functions.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor y = ops::concat(xs, dim);
  if (!needs_grad(xs)) return y;
  int64_t d = y.wrap_dim(dim);
  std::vector<int64_t> sizes;
  std::vector<bool> want;
  for (const Tensor& x : xs) {
    sizes.push_back(x.size(d));
    want.push_back(x.requires_grad());
  }
  return record("concat", xs, y, [sizes, want, d](const G& g) {
    G parts = ops::split(g[0], sizes, d);
    for (size_t i = 0; i < parts.size(); ++i)
      if (!want[i]) parts[i] = Tensor();
    return parts;
  });
}

// Outputs that received no gradient contribute zeros to their slice.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  std::vector<Tensor> ys = ops::split(x, sizes, dim);
  if (!needs_grad({x})) return ys;
  int64_t d = x.wrap_dim(dim);
  return record("split", {x}, ys,
                [sizes, d, shape = x.sizes(), dt = x.dtype(), dev = x.device()](const G& g) {
                  G parts;
                  for (size_t i = 0; i < g.size(); ++i) {
                    Shape s = shape;
                    s[size_t(d)] = sizes[i];
                    parts.push_back(g[i].defined() ? g[i] : Tensor::zeros(s, dt, dev));
                  }
                  return G{ops::concat(parts, d)};
                });
}

}  // namespace kiln
