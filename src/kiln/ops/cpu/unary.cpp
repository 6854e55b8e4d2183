#include <cmath>

#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/unary.h"

namespace kiln::ops::cpu {

namespace {

template <class A>
inline A sigm(A x) {
  return A(1) / (A(1) + std::exp(-x));
}

template <UnaryOp OP, class A>
inline A fwd(A x, A p) {
  constexpr A kSqrt2OverPi = A(0.7978845608028654), kInvSqrt2 = A(0.7071067811865476);
  if constexpr (OP == UnaryOp::Neg) return -x;
  if constexpr (OP == UnaryOp::Exp) return std::exp(x);
  if constexpr (OP == UnaryOp::Log) return std::log(x);
  if constexpr (OP == UnaryOp::Sqrt) return std::sqrt(x);
  if constexpr (OP == UnaryOp::Rsqrt) return A(1) / std::sqrt(x);
  if constexpr (OP == UnaryOp::Tanh) return std::tanh(x);
  if constexpr (OP == UnaryOp::Sigmoid) return sigm(x);
  if constexpr (OP == UnaryOp::Relu) return x > A(0) ? x : A(0);
  if constexpr (OP == UnaryOp::Silu) return x * sigm(x);
  if constexpr (OP == UnaryOp::Gelu) return A(0.5) * x * (A(1) + std::erf(x * kInvSqrt2));
  if constexpr (OP == UnaryOp::GeluTanh)
    return A(0.5) * x * (A(1) + std::tanh(kSqrt2OverPi * (x + A(0.044715) * x * x * x)));
  if constexpr (OP == UnaryOp::Abs) return std::abs(x);
  if constexpr (OP == UnaryOp::Scale) return x * p;
  if constexpr (OP == UnaryOp::Shift) return x + p;
  if constexpr (OP == UnaryOp::PowScalar) return std::pow(x, p);
}

// d f / d x, given x and y = f(x)
template <UnaryOp OP, class A>
inline A deriv(A x, A y, A p) {
  constexpr A kSqrt2OverPi = A(0.7978845608028654), kInvSqrt2 = A(0.7071067811865476);
  constexpr A kInvSqrt2Pi = A(0.3989422804014327);
  if constexpr (OP == UnaryOp::Neg) return A(-1);
  if constexpr (OP == UnaryOp::Exp) return y;
  if constexpr (OP == UnaryOp::Log) return A(1) / x;
  if constexpr (OP == UnaryOp::Sqrt) return A(0.5) / y;
  if constexpr (OP == UnaryOp::Rsqrt) return A(-0.5) * y * y * y;
  if constexpr (OP == UnaryOp::Tanh) return A(1) - y * y;
  if constexpr (OP == UnaryOp::Sigmoid) return y * (A(1) - y);
  if constexpr (OP == UnaryOp::Relu) return x > A(0) ? A(1) : A(0);
  if constexpr (OP == UnaryOp::Silu) {
    A s = sigm(x);
    return s * (A(1) + x * (A(1) - s));
  }
  if constexpr (OP == UnaryOp::Gelu)
    return A(0.5) * (A(1) + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(A(-0.5) * x * x);
  if constexpr (OP == UnaryOp::GeluTanh) {
    A u = kSqrt2OverPi * (x + A(0.044715) * x * x * x);
    A t = std::tanh(u);
    A du = kSqrt2OverPi * (A(1) + A(3) * A(0.044715) * x * x);
    return A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * du;
  }
  if constexpr (OP == UnaryOp::Abs) return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
  if constexpr (OP == UnaryOp::Scale) return p;
  if constexpr (OP == UnaryOp::Shift) return A(1);
  if constexpr (OP == UnaryOp::PowScalar) return p * std::pow(x, p - A(1));
}

template <UnaryOp OP, class T>
void run_fwd(double p, const Tensor& x, const Tensor& out) {
  using A = acc_t<T>;
  Tensor xc = x.contiguous();
  const T* xi = static_cast<const T*>(xc.raw_data());
  T* o = static_cast<T*>(out.raw_data());
  A pa = A(p);
  parallel_for(out.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) store_as<T, A>(o + i, fwd<OP, A>(load_as<T, A>(xi + i), pa));
  });
}

template <UnaryOp OP, class T>
void run_bwd(double p, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  using A = acc_t<T>;
  Tensor xc = x.contiguous(), yc = y.contiguous(), gc = dy.contiguous();
  const T* xi = static_cast<const T*>(xc.raw_data());
  const T* yi = static_cast<const T*>(yc.raw_data());
  const T* gi = static_cast<const T*>(gc.raw_data());
  T* o = static_cast<T*>(dx.raw_data());
  A pa = A(p);
  parallel_for(dx.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      store_as<T, A>(o + i, load_as<T, A>(gi + i) *
                                deriv<OP, A>(load_as<T, A>(xi + i), load_as<T, A>(yi + i), pa));
  });
}

template <class F>
void by_op(UnaryOp op, F&& f) {
#define KILN_UNARY_CASE(name) \
  case UnaryOp::name:         \
    return f(std::integral_constant<UnaryOp, UnaryOp::name>{})
  switch (op) {
    KILN_UNARY_CASE(Neg);
    KILN_UNARY_CASE(Exp);
    KILN_UNARY_CASE(Log);
    KILN_UNARY_CASE(Sqrt);
    KILN_UNARY_CASE(Rsqrt);
    KILN_UNARY_CASE(Tanh);
    KILN_UNARY_CASE(Sigmoid);
    KILN_UNARY_CASE(Relu);
    KILN_UNARY_CASE(Silu);
    KILN_UNARY_CASE(Gelu);
    KILN_UNARY_CASE(GeluTanh);
    KILN_UNARY_CASE(Abs);
    KILN_UNARY_CASE(Scale);
    KILN_UNARY_CASE(Shift);
    KILN_UNARY_CASE(PowScalar);
  }
#undef KILN_UNARY_CASE
}

}  // namespace

void unary(UnaryOp op, double p, const Tensor& x, const Tensor& out) {
  visit_float(x.dtype(), unary_op_name(op), [&](auto v) {
    by_op(op, [&](auto o) { run_fwd<decltype(o)::value, decltype(v)>(p, x, out); });
  });
}

void unary_backward(UnaryOp op, double p, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx) {
  visit_float(x.dtype(), unary_op_name(op), [&](auto v) {
    by_op(op, [&](auto o) { run_bwd<decltype(o)::value, decltype(v)>(p, x, y, dy, dx); });
  });
}

}  // namespace kiln::ops::cpu
