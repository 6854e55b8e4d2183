#pragma once
// Register-wide SIMD for the fused model-op kernels (norms, SwiGLU, attention, cross-entropy) and
// their GEMM tiles: GCC/Clang vector extensions as wide as the build's widest registers (AVX-512,
// AVX, else 128-bit), so one source compiles to the right instructions under -march=native and
// still builds anywhere. Loads and stores are unaligned.
//
// Why not plain loops: without -ffast-math the compiler may not reorder a float sum, so reductions
// would stay scalar; and libm's exp is a call per element. Reductions here keep vector
// accumulators, and exp for f32 is a polynomial evaluated across lanes. f64 keeps std::exp: f64
// paths are for accuracy, not speed.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace kiln::ops::cpu::simd {

#if defined(__AVX512F__)
inline constexpr int kBytes = 64;
#elif defined(__AVX__)
inline constexpr int kBytes = 32;
#else
inline constexpr int kBytes = 16;
#endif

template <class A>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(kBytes)));
  typedef int32_t itype __attribute__((vector_size(kBytes)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(kBytes)));
  typedef int64_t itype __attribute__((vector_size(kBytes)));
};
template <class A>
using Vec = typename VecOf<A>::type;
template <class A>
inline constexpr int64_t kLanes = kBytes / int64_t(sizeof(A));

// n rounded up to whole vectors.
template <class A>
inline int64_t round_up(int64_t n) {
  return (n + kLanes<A> - 1) / kLanes<A> * kLanes<A>;
}

template <class A>
inline Vec<A> load(const A* p) {
  Vec<A> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class A>
inline void store(A* p, Vec<A> v) {
  std::memcpy(p, &v, sizeof v);
}
template <class A>
inline Vec<A> splat(A x) {
  return Vec<A>{} + x;
}
template <class A>
inline Vec<A> vmax(Vec<A> a, Vec<A> b) {
  return a > b ? a : b;
}
template <class A>
inline A hsum(Vec<A> v) {
  A s = 0;
  for (int64_t i = 0; i < kLanes<A>; ++i) s += v[i];
  return s;
}
// The sum of f32 lanes as a tree (each step adds the upper half of the lanes onto the lower),
// with AVX-512 in four shuffles and adds instead of hsum's chain of 15: the same instructions
// for every vector, so the same order wherever it is used (gemm_rows' batch invariance rests on
// that).
inline float tree_sum(Vec<float> v) {
#if defined(__AVX512F__)  // 16 lanes
  v += __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7);
  v += __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  v += __builtin_shufflevector(v, v, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  return v[0];
#else
  return hsum<float>(v);
#endif
}
template <class A>
inline A hmax(Vec<A> v) {
  A m = v[0];
  for (int64_t i = 1; i < kLanes<A>; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// e^x for f32 lanes: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to degree 7
// (truncation below 1e-8 relative), then 2^n added into the exponent bits. Within 2 ulp of expf
// on [-86, 88]; below -86 (including -inf) it gives 0, e^-86 being under anything a softmax sum
// can see, above 88 +inf; NaN stays NaN.
inline Vec<float> exp(Vec<float> x) {
  using I = VecOf<float>::itype;
  const Vec<float> lo = splat(-86.0f), hi = splat(88.0f);
  Vec<float> xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const Vec<float> shifter = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  Vec<float> t = xc * 1.44269504088896341f + shifter;
  Vec<float> n = t - shifter;
  I ni = (I)t - (I)shifter;
  Vec<float> r = xc - n * 0.693145751953125f;  // ln 2 split so that n * hi is exact
  r = r - n * 1.428606765330187e-06f;
  Vec<float> p = splat(1.0f / 5040);
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  Vec<float> y = (Vec<float>)((I)p + (ni << 23));
  y = x < lo ? Vec<float>{} : y;
  y = x > hi ? splat(std::numeric_limits<float>::infinity()) : y;
  return x != x ? x : y;
}

inline Vec<double> exp(Vec<double> x) {
  for (int64_t i = 0; i < kLanes<double>; ++i) x[i] = std::exp(x[i]);
  return x;
}

// Scalar e^x with the numerics of the vector version of its type.
inline float exp1(float x) {
  return exp(splat(x))[0];
}
inline double exp1(double x) {
  return std::exp(x);
}

// Row reductions over x[0..n).
template <class A>
inline A sum(const A* x, int64_t n) {
  constexpr int64_t L = kLanes<A>;
  Vec<A> a0{}, a1{};
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    a0 += load(x + i);
    a1 += load(x + i + L);
  }
  for (; i + L <= n; i += L) a0 += load(x + i);
  A s = hsum<A>(a0 + a1);
  for (; i < n; ++i) s += x[i];
  return s;
}
template <class A>
inline A dot(const A* x, const A* y, int64_t n) {
  constexpr int64_t L = kLanes<A>;
  Vec<A> a0{}, a1{};
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    a0 += load(x + i) * load(y + i);
    a1 += load(x + i + L) * load(y + i + L);
  }
  for (; i + L <= n; i += L) a0 += load(x + i) * load(y + i);
  A s = hsum<A>(a0 + a1);
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}
template <class A>
inline A sum_sq(const A* x, int64_t n) {
  return dot(x, x, n);
}
template <class A>
inline A max(const A* x, int64_t n) {
  constexpr int64_t L = kLanes<A>;
  A m = -std::numeric_limits<A>::infinity();
  int64_t i = 0;
  if (n >= L) {
    Vec<A> v = load(x);
    for (i = L; i + L <= n; i += L) v = vmax<A>(v, load(x + i));
    m = hmax<A>(v);
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum over i of e^(x[i] - shift).
template <class A>
inline A sum_exp(const A* x, int64_t n, A shift) {
  constexpr int64_t L = kLanes<A>;
  Vec<A> acc{}, s = splat(shift);
  int64_t i = 0;
  for (; i + L <= n; i += L) acc += exp(load(x + i) - s);
  A t = hsum<A>(acc);
  for (; i < n; ++i) t += exp1(x[i] - shift);
  return t;
}

// x[i] = e^(x[i] - shift) in place; returns their sum.
template <class A>
inline A exp_shifted(A* x, int64_t n, A shift) {
  constexpr int64_t L = kLanes<A>;
  Vec<A> acc{}, s = splat(shift);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    Vec<A> e = exp(load(x + i) - s);
    store(x + i, e);
    acc += e;
  }
  if (i < n) {  // the tail through one padded vector: padding lanes are -inf, so they add 0
    A tail[L];
    for (int64_t j = 0; j < L; ++j)
      tail[j] = i + j < n ? x[i + j] : -std::numeric_limits<A>::infinity();
    Vec<A> e = exp(load(tail) - s);
    store(tail, e);
    std::memcpy(x + i, tail, size_t(n - i) * sizeof(A));
    acc += e;
  }
  return hsum<A>(acc);
}

}  // namespace kiln::ops::cpu::simd
