#include "kiln/ops/shape.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<ConcatFn> concat_kernel{"concat", &cpu::concat};

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  KILN_REQUIRE(!xs.empty(), "concat: needs at least one tensor");
  for (const Tensor& x : xs) check_defined("concat", x, "xs");
  const Tensor& first = xs[0];
  int64_t d = dim < 0 ? dim + first.dim() : dim;
  KILN_REQUIRE(d >= 0 && d < first.dim(), "concat: dimension ", dim,
               " is out of range for tensors of shape ", shape_str(first.sizes()));
  KILN_REQUIRE(!is_quantized(first.dtype()), "concat: quantized tensors (",
               dtype_name(first.dtype()), ") are not supported");
  Shape out_shape = first.sizes();
  out_shape[d] = 0;
  std::vector<Tensor> parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    check_same_device("concat", first, x);
    check_same_dtype("concat", first, x);
    bool match = x.dim() == first.dim();
    for (int64_t k = 0; match && k < x.dim(); ++k) match = k == d || x.size(k) == first.size(k);
    KILN_REQUIRE(match, "concat: tensor ", i, " of shape ", shape_str(x.sizes()),
                 " does not match tensor 0 of shape ", shape_str(first.sizes()),
                 " outside dimension ", d);
    out_shape[d] += x.size(d);
    if (x.numel() > 0) parts.push_back(x.contiguous());
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  if (out.numel() > 0) concat_kernel.get(out.device())(parts, d, out);
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_defined("split", x, "x");
  int64_t d = dim < 0 ? dim + x.dim() : dim;
  KILN_REQUIRE(d >= 0 && d < x.dim(), "split: dimension ", dim,
               " is out of range for a tensor of shape ", shape_str(x.sizes()));
  int64_t total = 0;
  for (int64_t s : sizes) {
    KILN_REQUIRE(s >= 0, "split: negative size ", s, " in ", shape_str(sizes));
    total += s;
  }
  KILN_REQUIRE(total == x.size(d), "split: sizes ", shape_str(sizes), " sum to ", total,
               " but dimension ", d, " of shape ", shape_str(x.sizes()), " has ", x.size(d));
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(d, start, s));
    start += s;
  }
  return out;
}

}  // namespace kiln::ops
