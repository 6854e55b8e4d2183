#include "kiln/ops/softmax.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<SoftmaxFn> softmax_kernel{"softmax", &cpu::softmax};
Kernel<SoftmaxBackwardFn> softmax_backward_kernel{"softmax_backward", &cpu::softmax_backward};

namespace {

// A 0-d tensor counts as one element along dimension 0 or -1, as in PyTorch.
SoftmaxShape shape_for(const char* op, const Tensor& x, int64_t dim) {
  int64_t rank = std::max<int64_t>(x.dim(), 1);
  int64_t d = dim < 0 ? dim + rank : dim;
  KILN_REQUIRE(d >= 0 && d < rank, op, ": dimension ", dim,
               " is out of range for a tensor of shape ", shape_str(x.sizes()));
  if (x.dim() == 0) return {1, 1, 1};
  SoftmaxShape s{1, x.size(d), 1};
  for (int64_t i = 0; i < d; ++i) s.outer *= x.size(i);
  for (int64_t i = d + 1; i < x.dim(); ++i) s.inner *= x.size(i);
  return s;
}

Tensor forward(bool log, const char* op, const Tensor& x, int64_t dim) {
  check_defined(op, x, "x");
  check_float(op, x);
  SoftmaxShape s = shape_for(op, x, dim);
  Tensor out = Tensor::empty(x.sizes(), x.dtype(), x.device());
  if (out.numel() > 0) softmax_kernel.get(x.device())(log, s, x.contiguous(), out);
  return out;
}

Tensor backward(bool log, const char* op, const Tensor& y, const Tensor& dy, int64_t dim) {
  check_defined(op, y, "y");
  check_defined(op, dy, "dy");
  check_same_device(op, y, dy);
  check_same_dtype(op, y, dy);
  KILN_REQUIRE(y.sizes() == dy.sizes(), op, ": output ", shape_str(y.sizes()), " and its gradient ",
               shape_str(dy.sizes()), " differ in shape");
  SoftmaxShape s = shape_for(op, y, dim);
  Tensor dx = Tensor::empty(y.sizes(), y.dtype(), y.device());
  if (dx.numel() > 0)
    softmax_backward_kernel.get(y.device())(log, s, y.contiguous(), dy.contiguous(), dx);
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return forward(false, "softmax", x, dim);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return forward(true, "log_softmax", x, dim);
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim) {
  return backward(false, "softmax_backward", y, dy, dim);
}
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim) {
  return backward(true, "log_softmax_backward", y, dy, dim);
}

}  // namespace kiln::ops
