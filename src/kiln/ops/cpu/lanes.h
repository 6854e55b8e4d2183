#pragma once
// One interface, Lanes<T>, over the element types a row kernel (softmax and friends) meets:
// float-like T (f32, bf16, f16) as vectors of f32 from simd.h, where bf16 widens on load and
// rounds to nearest even on store; and double as plain scalars with std::exp, so f64 keeps full
// precision. A kernel is written once for all of them. Kernels walk a run with sweep(): whole
// vectors first, then one partial vector, so the main loop has no branches.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kiln/core/half.h"
#include "kiln/ops/cpu/simd.h"

namespace kiln::ops::cpu::lanes {

constexpr int64_t kWidth = simd::kLanes<float>;
using vf = simd::Vec<float>;
using vu = uint32_t __attribute__((vector_size(simd::kBytes)));
using vh = uint16_t __attribute__((vector_size(simd::kBytes / 2)));

inline vf load(const float* p) {
  return simd::load(p);
}
inline vf load(const bf16* p) {
  vh h;
  std::memcpy(&h, p, sizeof h);
  return vf(__builtin_convertvector(h, vu) << 16);
}
inline vf load(const f16* p) {
  vf v;
  for (int i = 0; i < kWidth; ++i) v[i] = float(p[i]);
  return v;
}

inline void store(float* p, vf v) {
  simd::store(p, v);
}
inline void store(bf16* p, vf v) {
  vu u = vu(v);
  vu rounded = u + 0x7fffu + ((u >> 16) & 1u);
  vu nan = u | 0x400000u;  // keeps a NaN quiet after truncation
  vu r = (u & 0x7fffffffu) > 0x7f800000u ? nan : rounded;
  vh h = __builtin_convertvector(r >> 16, vh);
  std::memcpy(static_cast<void*>(p), &h, sizeof h);
}
inline void store(f16* p, vf v) {
  for (int i = 0; i < kWidth; ++i) p[i] = f16(v[i]);
}

template <class T>
struct Lanes {
  using V = vf;
  using A = float;
  static constexpr int64_t width = kWidth;
  static V load(const T* p) { return lanes::load(p); }
  // The first n (< width) elements; the other lanes hold `fill`.
  static V load_n(const T* p, int64_t n, float fill) {
    V v = simd::splat(fill);
    for (int64_t i = 0; i < n; ++i) v[i] = float(p[i]);
    return v;
  }
  static void store(T* p, V v) { lanes::store(p, v); }
  static void store_n(T* p, V v, int64_t n) {
    T tmp[kWidth];
    lanes::store(tmp, v);
    for (int64_t i = 0; i < n; ++i) p[i] = tmp[i];
  }
  static V splat(float v) { return simd::splat(v); }
  static V exp(V v) { return simd::exp(v); }
  static V log(V v) {
    for (int i = 0; i < kWidth; ++i) v[i] = std::log(v[i]);
    return v;
  }
  static V max(V a, V b) { return simd::vmax<float>(a, b); }
  static A hmax(V v) { return simd::hmax<float>(v); }
  static A hsum(V v) { return simd::hsum<float>(v); }
};

template <>
struct Lanes<double> {
  using V = double;
  using A = double;
  static constexpr int64_t width = 1;
  static V load(const double* p) { return *p; }
  static V load_n(const double*, int64_t, double fill) { return fill; }
  static void store(double* p, V v) { *p = v; }
  static void store_n(double*, V, int64_t) {}
  static V splat(double v) { return v; }
  static V exp(V v) { return std::exp(v); }
  static V log(V v) { return std::log(v); }
  static V max(V a, V b) { return a > b ? a : b; }
  static A hmax(V v) { return v; }
  static A hsum(V v) { return v; }
};

// The count a sweep step hands its body: a compile-time whole vector, or a run-time tail length.
template <class L>
using Whole = std::integral_constant<int64_t, L::width>;

// Calls f(i, count) over [0, n): whole vectors, then the partial one.
template <class L, class F>
inline void sweep(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + L::width <= n; i += L::width) f(i, Whole<L>{});
  if (i < n) f(i, n - i);
}

// Loads / stores `count` elements as a sweep step gives them; missing lanes read as `fill`.
template <class L, class T, class C>
inline typename L::V ld(const T* p, C count, typename L::A fill) {
  if constexpr (std::is_same_v<C, Whole<L>>) {
    return L::load(p);
  } else {
    return L::load_n(p, count, fill);
  }
}
template <class L, class T, class C>
inline void st(T* p, typename L::V v, C count) {
  if constexpr (std::is_same_v<C, Whole<L>>) {
    L::store(p, v);
  } else {
    L::store_n(p, v, count);
  }
}

}  // namespace kiln::ops::cpu::lanes
