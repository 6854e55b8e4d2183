#pragma once
// Calls fn with a value of the C++ type matching a dtype: visit_dtype(DType::F32, [](auto v) {
// using T = decltype(v); ... }). Quantized types are not visitable.
#include "kiln/core/dtype.h"
#include "kiln/core/error.h"

namespace kiln {

template <class Fn>
decltype(auto) visit_dtype(DType dt, Fn&& fn) {
  switch (dt) {
    case DType::F32:
      return fn(float{});
    case DType::F64:
      return fn(double{});
    case DType::BF16:
      return fn(bf16{});
    case DType::F16:
      return fn(f16{});
    case DType::I32:
      return fn(int32_t{});
    case DType::I64:
      return fn(int64_t{});
    case DType::U8:
      return fn(uint8_t{});
    case DType::I8:
      return fn(int8_t{});
    default:
      break;
  }
  throw Error(str("operation not supported for dtype ", dtype_name(dt)));
}

// Floating types only: f32, f64, bf16, f16.
template <class Fn>
decltype(auto) visit_float(DType dt, const char* op, Fn&& fn) {
  switch (dt) {
    case DType::F32:
      return fn(float{});
    case DType::F64:
      return fn(double{});
    case DType::BF16:
      return fn(bf16{});
    case DType::F16:
      return fn(f16{});
    default:
      break;
  }
  throw Error(str(op, ": expected a floating tensor (f32, f64, bf16, f16), got ", dtype_name(dt)));
}

// The type arithmetic happens in: double for f64, float for every other floating type.
template <class T>
struct acc_type {
  using type = float;
};
template <>
struct acc_type<double> {
  using type = double;
};
template <class T>
using acc_t = typename acc_type<T>::type;

// Converting load/store: bf16/f16 go through float.
template <class T, class A>
inline A load_as(const T* p) {
  return A(float(*p));
}
template <>
inline double load_as<double, double>(const double* p) {
  return *p;
}
template <>
inline float load_as<float, float>(const float* p) {
  return *p;
}
template <class T, class A>
inline void store_as(T* p, A v) {
  *p = T(v);
}
template <>
inline void store_as<bf16, float>(bf16* p, float v) {
  *p = bf16(v);
}
template <>
inline void store_as<f16, float>(f16* p, float v) {
  *p = f16(v);
}
template <>
inline void store_as<bf16, double>(bf16* p, double v) {
  *p = bf16(float(v));
}
template <>
inline void store_as<f16, double>(f16* p, double v) {
  *p = f16(float(v));
}

}  // namespace kiln
