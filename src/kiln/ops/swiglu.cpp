#include "kiln/ops/swiglu.h"

#include "kiln/ops/check.h"
#include "kiln/ops/rows.h"

namespace kiln::ops {

Kernel<SwigluFn> swiglu_kernel{"swiglu", &cpu::swiglu};
Kernel<SwigluBackwardFn> swiglu_backward_kernel{"swiglu_backward", &cpu::swiglu_backward};

namespace {

void check_pair(const char* op, const Tensor& gate, const Tensor& up) {
  check_defined(op, gate, "gate");
  check_defined(op, up, "up");
  check_float(op, gate);
  check_same_dtype(op, gate, up);
  check_same_device(op, gate, up);
  KILN_REQUIRE(gate.sizes() == up.sizes(), op, ": gate ", shape_str(gate.sizes()), " and up ",
               shape_str(up.sizes()), " must have the same shape");
}

Tensor empty_rows(const Tensor& like) {
  return Tensor::empty(like.sizes(), like.dtype(), like.device());
}

}  // namespace

Tensor swiglu(const Tensor& gate, const Tensor& up) {
  check_pair("swiglu", gate, up);
  Tensor y = empty_rows(gate);
  if (y.numel() > 0) swiglu_kernel.get(y.device())(as_rows(gate), as_rows(up), as_rows(y));
  return y;
}

SwigluGrads swiglu_backward(const Tensor& dy, const Tensor& gate, const Tensor& up, bool need_dgate,
                            bool need_dup) {
  check_pair("swiglu backward", gate, up);
  check_defined("swiglu backward", dy, "dy");
  check_same_dtype("swiglu backward", dy, gate);
  KILN_REQUIRE(dy.sizes() == gate.sizes(), "swiglu backward: dy ", shape_str(dy.sizes()),
               " does not match gate ", shape_str(gate.sizes()));
  SwigluGrads g{need_dgate ? empty_rows(gate) : Tensor(), need_dup ? empty_rows(up) : Tensor()};
  if (gate.numel() > 0 && (need_dgate || need_dup))
    swiglu_backward_kernel.get(gate.device())(as_rows(dy), as_rows(gate), as_rows(up),
                                              need_dgate ? as_rows(g.dgate) : Tensor(),
                                              need_dup ? as_rows(g.dup) : Tensor());
  return g;
}

}  // namespace kiln::ops
