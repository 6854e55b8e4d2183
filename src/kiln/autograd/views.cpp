// Differentiable views. Each backward maps the gradient back to the input's shape.
#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.reshape(shape);
  if (!needs_grad({x})) return y;
  Shape in = x.sizes();
  return record("reshape", {x}, y, [in](const G& g) { return G{g[0].reshape(in)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor y = x.permute(dims);
  if (!needs_grad({x})) return y;
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[size_t(x.wrap_dim(dims[i]))] = int64_t(i);
  return record("permute", {x}, y, [inv](const G& g) { return G{g[0].permute(inv)}; });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  Tensor y = x.transpose(d0, d1);
  if (!needs_grad({x})) return y;
  return record("transpose", {x}, y, [d0, d1](const G& g) { return G{g[0].transpose(d0, d1)}; });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Tensor y = x.narrow(dim, start, length);
  if (!needs_grad({x})) return y;
  Shape in = x.sizes();
  DType dt = x.dtype();
  Device dev = x.device();
  int64_t d = x.wrap_dim(dim);
  return record("narrow", {x}, y, [=](const G& g) {
    Tensor gx = Tensor::zeros(in, dt, dev);
    gx.narrow(d, start, length).copy_(g[0]);
    return G{gx};
  });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = x.wrap_dim(dim);
  int64_t i = index < 0 ? index + x.size(d) : index;
  return squeeze(narrow(x, d, i, 1), d);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = x.expand(shape);
  if (!needs_grad({x})) return y;
  Shape in = x.sizes();
  return record("expand", {x}, y, [in](const G& g) { return G{ops::sum_to(g[0], in)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = dim < 0 ? dim + x.dim() + 1 : dim;
  Shape s = x.sizes();
  KILN_REQUIRE(d >= 0 && d <= x.dim(), "unsqueeze: dimension ", dim, " out of range for shape ",
               shape_str(s));
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = x.wrap_dim(dim);
  KILN_REQUIRE(x.size(d) == 1, "squeeze: dimension ", d, " of shape ", shape_str(x.sizes()),
               " is not 1");
  Shape s = x.sizes();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  return reshape(x, x.flatten(start, end).sizes());
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = x.contiguous();
  if (!needs_grad({x})) return y;
  return record("contiguous", {x}, y, [](const G& g) { return G{g[0]}; });
}

Tensor to_dtype(const Tensor& x, DType dt) {
  if (x.dtype() == dt) return x;
  Tensor y = x.to(dt);
  if (!needs_grad({x})) return y;
  DType in = x.dtype();
  return record("to_dtype", {x}, y, [in](const G& g) { return G{g[0].to(in)}; });
}

}  // namespace kiln
