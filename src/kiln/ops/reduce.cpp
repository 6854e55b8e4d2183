#include "kiln/ops/reduce.h"

#include <algorithm>

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<ReduceFn> reduce_kernel{"reduce", &cpu::reduce};

namespace {

std::vector<int64_t> normalize_dims(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(x.wrap_dim(d));
  std::sort(out.begin(), out.end());
  KILN_REQUIRE(std::adjacent_find(out.begin(), out.end()) == out.end(),
               "reduce: a dimension is repeated in the list of dims");
  return out;
}

Shape kept_shape(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape s = x.sizes();
  for (int64_t d : dims) s[d] = 1;
  return s;
}

Shape dropped_shape(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape s;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) s.push_back(x.size(d));
  return s;
}

Tensor reduce(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& dims_in,
              bool keepdim) {
  check_defined(name, x, "x");
  check_float(name, x);
  auto dims = normalize_dims(x, dims_in);
  Tensor out = Tensor::empty(kept_shape(x, dims), x.dtype(), x.device());
  reduce_kernel.get(x.device())(op, x, dims, out, Tensor());
  return keepdim ? out : out.view(dropped_shape(x, dims));
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce(ReduceOp::Sum, "sum", x, dims, keepdim);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce(ReduceOp::Mean, "mean", x, dims, keepdim);
}

MaxResult max(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("max", x, "x");
  check_float("max", x);
  int64_t d = x.wrap_dim(dim);
  KILN_REQUIRE(x.size(d) > 0, "max: dimension ", d, " of shape ", shape_str(x.sizes()),
               " is empty");
  std::vector<int64_t> dims{d};
  MaxResult r{Tensor::empty(kept_shape(x, dims), x.dtype(), x.device()),
              Tensor::empty(kept_shape(x, dims), DType::I64, x.device())};
  reduce_kernel.get(x.device())(ReduceOp::Max, x, dims, r.values, r.indices);
  if (!keepdim) {
    r.values = r.values.squeeze(d);
    r.indices = r.indices.squeeze(d);
  }
  return r;
}

}  // namespace kiln::ops
