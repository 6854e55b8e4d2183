#include "kiln/ops/where.h"
#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"

namespace kiln::ops::cpu {

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&](auto v) {
    using T = decltype(v);
    using A = std::conditional_t<std::is_floating_point_v<T> || std::is_same_v<T, bf16> ||
                                     std::is_same_v<T, f16>,
                                 double, int64_t>;
    StridedLoop<3> loop(out.sizes(), {out.strides(), a.strides(), b.strides()});
    auto st = loop.inner_strides();
    for (int64_t r = 0; r < loop.outer_count(); ++r) {
      auto off = loop.offsets(r);
      uint8_t* o = out.data<uint8_t>() + off[0];
      const T* x = static_cast<const T*>(a.raw_data()) + off[1];
      const T* y = static_cast<const T*>(b.raw_data()) + off[2];
      for (int64_t i = 0; i < loop.inner(); ++i) {
        A p = A(x[i * st[1]]), q = A(y[i * st[2]]);
        bool c = false;
        switch (op) {
          case CompareOp::Eq:
            c = p == q;
            break;
          case CompareOp::Ne:
            c = p != q;
            break;
          case CompareOp::Lt:
            c = p < q;
            break;
          case CompareOp::Le:
            c = p <= q;
            break;
          case CompareOp::Gt:
            c = p > q;
            break;
          case CompareOp::Ge:
            c = p >= q;
            break;
        }
        o[i * st[0]] = c;
      }
    }
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&](auto v) {
    using T = decltype(v);
    StridedLoop<4> loop(out.sizes(), {out.strides(), cond.strides(), a.strides(), b.strides()});
    auto st = loop.inner_strides();
    for (int64_t r = 0; r < loop.outer_count(); ++r) {
      auto off = loop.offsets(r);
      T* o = static_cast<T*>(out.raw_data()) + off[0];
      const uint8_t* c = static_cast<const uint8_t*>(cond.raw_data()) + off[1];
      const T* x = static_cast<const T*>(a.raw_data()) + off[2];
      const T* y = static_cast<const T*>(b.raw_data()) + off[3];
      for (int64_t i = 0; i < loop.inner(); ++i)
        o[i * st[0]] = c[i * st[1]] ? x[i * st[2]] : y[i * st[3]];
    }
  });
}

}  // namespace kiln::ops::cpu
