#include <cmath>

#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/binary.h"

namespace kiln::ops::cpu {

namespace {

template <BinaryOp OP, class A>
inline A apply(A x, A y) {
  if constexpr (OP == BinaryOp::Add) return x + y;
  if constexpr (OP == BinaryOp::Sub) return x - y;
  if constexpr (OP == BinaryOp::Mul) return x * y;
  if constexpr (OP == BinaryOp::Div) return x / y;
  if constexpr (OP == BinaryOp::Maximum) return x > y || std::isnan(x) ? x : y;
  if constexpr (OP == BinaryOp::Minimum) return x < y || std::isnan(x) ? x : y;
  if constexpr (OP == BinaryOp::Pow) return std::pow(x, y);
}

template <BinaryOp OP, class T>
void run(const Tensor& a, const Tensor& b, const Tensor& out) {
  using A = acc_t<T>;
  StridedLoop<3> loop(out.sizes(), {out.strides(), a.strides(), b.strides()});
  T* o0 = static_cast<T*>(out.raw_data());
  const T* a0 = static_cast<const T*>(a.raw_data());
  const T* b0 = static_cast<const T*>(b.raw_data());
  auto st = loop.inner_strides();
  int64_t inner = loop.inner();
  parallel_for(loop.outer_count() * inner, 16384, [&](int64_t begin, int64_t end) {
    // Split the flat range into runs of the innermost dimension.
    for (int64_t i = begin; i < end;) {
      int64_t r = i / inner, j0 = i % inner, j1 = std::min(inner, j0 + (end - i));
      auto off = loop.offsets(r);
      T* o = o0 + off[0];
      const T* x = a0 + off[1];
      const T* y = b0 + off[2];
      if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
        for (int64_t j = j0; j < j1; ++j) o[j] = T(apply<OP, A>(A(x[j]), A(y[j])));
      } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
        A yv = A(y[0]);
        for (int64_t j = j0; j < j1; ++j) o[j] = T(apply<OP, A>(A(x[j]), yv));
      } else {
        for (int64_t j = j0; j < j1; ++j)
          o[j * st[0]] = T(apply<OP, A>(A(x[j * st[1]]), A(y[j * st[2]])));
      }
      i += j1 - j0;
    }
  });
}

template <class T>
void run_op(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case BinaryOp::Add:
      return run<BinaryOp::Add, T>(a, b, out);
    case BinaryOp::Sub:
      return run<BinaryOp::Sub, T>(a, b, out);
    case BinaryOp::Mul:
      return run<BinaryOp::Mul, T>(a, b, out);
    case BinaryOp::Div:
      return run<BinaryOp::Div, T>(a, b, out);
    case BinaryOp::Maximum:
      return run<BinaryOp::Maximum, T>(a, b, out);
    case BinaryOp::Minimum:
      return run<BinaryOp::Minimum, T>(a, b, out);
    case BinaryOp::Pow:
      return run<BinaryOp::Pow, T>(a, b, out);
  }
}

}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_float(out.dtype(), binary_op_name(op), [&](auto v) { run_op<decltype(v)>(op, a, b, out); });
}

}  // namespace kiln::ops::cpu
