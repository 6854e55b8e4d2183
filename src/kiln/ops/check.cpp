#include "kiln/ops/check.h"

namespace kiln::ops {

void check_defined(const char* op, const Tensor& t, const char* arg) {
  KILN_REQUIRE(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  KILN_REQUIRE(a.device() == b.device(), op, ": tensors on different devices (", a.device().str(),
               " and ", b.device().str(), ")");
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  KILN_REQUIRE(a.dtype() == b.dtype(), op, ": dtypes differ (", dtype_name(a.dtype()),
               " with shape ", shape_str(a.sizes()), " and ", dtype_name(b.dtype()), " with shape ",
               shape_str(b.sizes()), ")");
}

void check_float(const char* op, const Tensor& t) {
  KILN_REQUIRE(is_float(t.dtype()), op, ": expected a floating tensor (f32, f64, bf16, f16), got ",
               dtype_name(t.dtype()), " with shape ", shape_str(t.sizes()));
}

void check_dim(const char* op, const Tensor& t, int64_t dim, const char* arg) {
  KILN_REQUIRE(t.dim() == dim, op, ": '", arg, "' must have ", dim, " dimensions, got shape ",
               shape_str(t.sizes()));
}

void check_min_dim(const char* op, const Tensor& t, int64_t dim, const char* arg) {
  KILN_REQUIRE(t.dim() >= dim, op, ": '", arg, "' must have at least ", dim,
               " dimensions, got shape ", shape_str(t.sizes()));
}

}  // namespace kiln::ops
