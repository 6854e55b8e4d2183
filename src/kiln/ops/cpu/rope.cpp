// RoPE over rows (b, h, t) in parallel; each row reads its position's cos/sin row.
#include "kiln/ops/rope.h"
#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"

namespace kiln::ops::cpu {

namespace {

template <class T>
void run(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse, const Tensor& out) {
  using A = acc_t<T>;
  int64_t B = x.size(0), H = x.size(1), T_ = x.size(2), D = x.size(3), half = cos.size(2);
  int64_t cb = cos.size(0) == 1 ? 0 : T_ * half;  // cos/sin batch stride
  const T* x0 = static_cast<const T*>(x.raw_data());
  const A* c0 = cos.data<A>();
  const A* s0 = sin.data<A>();
  T* o0 = out.data<T>();
  A sign = inverse ? A(-1) : A(1);
  parallel_for(B * H * T_, std::max<int64_t>(1, 8192 / D), [&](int64_t b0, int64_t e0) {
    for (int64_t r = b0; r < e0; ++r) {
      int64_t t = r % T_, h = (r / T_) % H, b = r / (T_ * H);
      const T* xr = x0 + b * x.stride(0) + h * x.stride(1) + t * x.stride(2);
      const A* c = c0 + b * cb + t * half;
      const A* s = s0 + b * cb + t * half;
      T* o = o0 + r * D;
      for (int64_t i = 0; i < half; ++i) {
        A x1 = A(xr[i]), x2 = A(xr[i + half]), si = sign * s[i];
        o[i] = T(x1 * c[i] - x2 * si);
        o[i + half] = T(x2 * c[i] + x1 * si);
      }
      for (int64_t i = 2 * half; i < D; ++i) o[i] = xr[i];
    }
  });
}

}  // namespace

void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse, const Tensor& out) {
  visit_float(x.dtype(), "rope", [&](auto t) { run<decltype(t)>(x, cos, sin, inverse, out); });
}

}  // namespace kiln::ops::cpu
