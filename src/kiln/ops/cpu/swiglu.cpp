// SwiGLU forward and backward, rows in parallel, f32 lanes through simd::exp.
#include <vector>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/row.h"
#include "kiln/ops/cpu/simd.h"
#include "kiln/ops/swiglu.h"

namespace kiln::ops::cpu {

namespace {

// sig[i] = sigmoid(g[i]) over n elements.
template <class A>
void sigmoid_row(const A* g, int64_t n, A* sig) {
  constexpr int64_t L = simd::kLanes<A>;
  int64_t i = 0;
  for (; i + L <= n; i += L) simd::store(sig + i, A(1) / (A(1) + simd::exp(-simd::load(g + i))));
  for (; i < n; ++i) sig[i] = A(1) / (A(1) + simd::exp1(-g[i]));
}

template <class T>
void fwd(const Tensor& gate, const Tensor& up, const Tensor& y) {
  using A = acc_t<T>;
  int64_t rows = gate.size(0), F = gate.size(1);
  parallel_for(rows, std::max<int64_t>(1, 16384 / F), [&](int64_t b, int64_t e) {
    std::vector<A> gb = row_buffer<A, T>(F), ub = row_buffer<A, T>(F), sig(static_cast<size_t>(F));
    for (int64_t r = b; r < e; ++r) {
      const A* g = row_as<A, T>(gate, r, gb);
      const A* u = row_as<A, T>(up, r, ub);
      T* o = row_ptr<T>(y, r);
      sigmoid_row(g, F, sig.data());
      for (int64_t i = 0; i < F; ++i) o[i] = T(A(T(g[i] * sig[i])) * u[i]);
    }
  });
}

// silu'(g) = s (1 + g (1 - s)) with s = sigmoid(g).
template <class T>
void bwd(const Tensor& dy, const Tensor& gate, const Tensor& up, const Tensor& dgate,
         const Tensor& dup) {
  using A = acc_t<T>;
  int64_t rows = gate.size(0), F = gate.size(1);
  parallel_for(rows, std::max<int64_t>(1, 16384 / F), [&](int64_t b, int64_t e) {
    std::vector<A> gb = row_buffer<A, T>(F), ub = row_buffer<A, T>(F), db = row_buffer<A, T>(F),
                   sig(static_cast<size_t>(F));
    for (int64_t r = b; r < e; ++r) {
      const A* g = row_as<A, T>(gate, r, gb);
      const A* u = row_as<A, T>(up, r, ub);
      const A* d = row_as<A, T>(dy, r, db);
      sigmoid_row(g, F, sig.data());
      if (dgate.defined()) {
        T* o = row_ptr<T>(dgate, r);
        for (int64_t i = 0; i < F; ++i)
          o[i] = T(d[i] * u[i] * sig[i] * (A(1) + g[i] * (A(1) - sig[i])));
      }
      if (dup.defined()) {
        T* o = row_ptr<T>(dup, r);
        for (int64_t i = 0; i < F; ++i) o[i] = T(d[i] * g[i] * sig[i]);
      }
    }
  });
}

}  // namespace

void swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) {
  visit_float(gate.dtype(), "swiglu", [&](auto t) { fwd<decltype(t)>(gate, up, y); });
}

void swiglu_backward(const Tensor& dy, const Tensor& gate, const Tensor& up, const Tensor& dgate,
                     const Tensor& dup) {
  visit_float(gate.dtype(), "swiglu backward",
              [&](auto t) { bwd<decltype(t)>(dy, gate, up, dgate, dup); });
}

}  // namespace kiln::ops::cpu
