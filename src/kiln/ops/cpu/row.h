#pragma once
// Row access for row-wise CPU kernels (norms, SwiGLU, cross-entropy) that compute in A (f32, f64
// for f64) over tensors of any floating type T.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::ops::cpu {

// Row r of a 2-D tensor with unit stride in its last dim, as A: a pointer into the tensor when it
// already holds A, else the row converted into buf (sized to the row by the caller).
template <class A, class T>
const A* row_as(const Tensor& t, int64_t r, std::vector<A>& buf) {
  const T* src = static_cast<const T*>(t.raw_data()) + r * t.stride(0);
  if constexpr (std::is_same_v<T, A>) {
    return src;
  } else {
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = A(src[i]);
    return buf.data();
  }
}

// A row buffer for row_as: empty when no conversion is needed.
template <class A, class T>
std::vector<A> row_buffer(int64_t n) {
  return std::vector<A>(std::is_same_v<T, A> ? 0 : static_cast<size_t>(n));
}

// Row r of a 2-D tensor with unit stride in its last dim, for writing.
template <class T>
T* row_ptr(const Tensor& t, int64_t r) {
  return static_cast<T*>(t.raw_data()) + r * t.stride(0);
}

}  // namespace kiln::ops::cpu
