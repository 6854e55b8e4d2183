// softmax / log_softmax on the CPU. The reduced dimension is either innermost (rows: threads take
// ranges of rows, each row vectorized along its length) or strided (columns: threads take blocks
// of adjacent columns, vectorized across them, walking down the reduced dimension with per-column
// running values in a small buffer), so both layouts stream memory in order without a transpose.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/lanes.h"
#include "kiln/ops/softmax.h"

namespace kiln::ops::cpu {

namespace {

using lanes::ld;
using lanes::st;
using lanes::sweep;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

template <class T>
void rows_forward(bool log, int64_t rows, int64_t n, const T* x, T* out) {
  using L = lanes::Lanes<T>;
  using V = typename L::V;
  using A = typename L::A;
  using LA = lanes::Lanes<A>;
  const A ninf = A(kNegInf);
  parallel_for(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t b, int64_t e) {
    // f32/f64 rows keep exp(x - max) in the output itself; narrower types need an f32 row.
    std::vector<A> scratch(std::is_same_v<T, A> || log ? 0 : size_t(n));
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * n;
      T* yr = out + r * n;
      V mv = L::splat(ninf);
      sweep<L>(n, [&](int64_t i, auto c) { mv = L::max(mv, ld<L>(xr + i, c, ninf)); });
      V m = L::splat(L::hmax(mv));
      V s0 = L::splat(0), s1 = L::splat(0);  // two sums: one add chain would be the bottleneck
      if (log) {
        sweep<L>(n, [&](int64_t i, auto c) {
          ((i / L::width) & 1 ? s1 : s0) += L::exp(ld<L>(xr + i, c, ninf) - m);
        });
        V ls = L::splat(std::log(L::hsum(s0 + s1)));
        sweep<L>(n, [&](int64_t i, auto c) { st<L>(yr + i, (ld<L>(xr + i, c, 0) - m) - ls, c); });
        continue;
      }
      A* buf;
      if constexpr (std::is_same_v<T, A>) {
        buf = yr;
      } else {
        buf = scratch.data();
      }
      sweep<L>(n, [&](int64_t i, auto c) {
        V ex = L::exp(ld<L>(xr + i, c, ninf) - m);
        ((i / L::width) & 1 ? s1 : s0) += ex;
        st<LA>(buf + i, ex, c);
      });
      V inv = L::splat(A(1) / L::hsum(s0 + s1));
      sweep<L>(n, [&](int64_t i, auto c) { st<L>(yr + i, ld<LA>(buf + i, c, 0) * inv, c); });
    }
  });
}

template <class T>
void rows_backward(bool log, int64_t rows, int64_t n, const T* y, const T* dy, T* dx) {
  using L = lanes::Lanes<T>;
  using V = typename L::V;
  parallel_for(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T *yr = y + r * n, *gr = dy + r * n;
      T* xr = dx + r * n;
      V a0 = L::splat(0), a1 = L::splat(0);
      auto acc = [&](int64_t i) -> V& { return (i / L::width) & 1 ? a1 : a0; };
      if (log) {
        sweep<L>(n, [&](int64_t i, auto c) { acc(i) += ld<L>(gr + i, c, 0); });
        V sum = L::splat(L::hsum(a0 + a1));
        sweep<L>(n, [&](int64_t i, auto c) {
          st<L>(xr + i, ld<L>(gr + i, c, 0) - L::exp(ld<L>(yr + i, c, 0)) * sum, c);
        });
      } else {
        sweep<L>(n,
                 [&](int64_t i, auto c) { acc(i) += ld<L>(gr + i, c, 0) * ld<L>(yr + i, c, 0); });
        V dot = L::splat(L::hsum(a0 + a1));
        sweep<L>(n, [&](int64_t i, auto c) {
          st<L>(xr + i, ld<L>(yr + i, c, 0) * (ld<L>(gr + i, c, 0) - dot), c);
        });
      }
    }
  });
}

// Columns per task: at most kBlock, a run long enough to stream well with its running values in
// L1, but narrower when that would leave threads idle.
constexpr int64_t kBlock = 256;

// Calls f(base, cols) for each (outer index, column block), base being the offset of the block's
// first element in reduced row 0.
template <class F>
void column_blocks(const SoftmaxShape& s, int64_t width, F&& f) {
  int64_t per_outer = (2 * int64_t(num_threads()) + s.outer - 1) / s.outer;
  int64_t block = (s.inner + per_outer - 1) / per_outer;
  block = std::clamp((block + width - 1) / width * width, std::min(4 * width, kBlock), kBlock);
  int64_t nblocks = (s.inner + block - 1) / block;
  parallel_for(s.outer * nblocks, std::max<int64_t>(1, 16384 / (s.n * block)),
               [&](int64_t b, int64_t e) {
                 for (int64_t t = b; t < e; ++t) {
                   int64_t o = t / nblocks, j0 = (t % nblocks) * block;
                   f(o * s.n * s.inner + j0, std::min(block, s.inner - j0));
                 }
               });
}

template <class T>
void columns_forward(bool log, const SoftmaxShape& s, const T* x, T* out) {
  using L = lanes::Lanes<T>;
  using A = typename L::A;
  using LA = lanes::Lanes<A>;
  const A ninf = A(kNegInf);
  column_blocks(s, L::width, [&](int64_t base, int64_t cols) {
    A m[kBlock], sum[kBlock];
    std::fill(m, m + cols, ninf);
    std::fill(sum, sum + cols, A(0));
    for (int64_t k = 0; k < s.n; ++k) {
      const T* xr = x + base + k * s.inner;
      sweep<L>(cols, [&](int64_t i, auto c) {
        st<LA>(m + i, L::max(ld<LA>(m + i, c, 0), ld<L>(xr + i, c, ninf)), c);
      });
    }
    for (int64_t k = 0; k < s.n; ++k) {
      const T* xr = x + base + k * s.inner;
      sweep<L>(cols, [&](int64_t i, auto c) {
        auto e = L::exp(ld<L>(xr + i, c, ninf) - ld<LA>(m + i, c, 0));
        st<LA>(sum + i, ld<LA>(sum + i, c, 0) + e, c);
      });
    }
    for (int64_t j = 0; j < cols; ++j) sum[j] = log ? std::log(sum[j]) : A(1) / sum[j];
    for (int64_t k = 0; k < s.n; ++k) {
      const T* xr = x + base + k * s.inner;
      T* yr = out + base + k * s.inner;
      sweep<L>(cols, [&](int64_t i, auto c) {
        auto xm = ld<L>(xr + i, c, ninf) - ld<LA>(m + i, c, 0);
        auto t = ld<LA>(sum + i, c, 0);
        st<L>(yr + i, log ? xm - t : L::exp(xm) * t, c);
      });
    }
  });
}

template <class T>
void columns_backward(bool log, const SoftmaxShape& s, const T* y, const T* dy, T* dx) {
  using L = lanes::Lanes<T>;
  using A = typename L::A;
  using LA = lanes::Lanes<A>;
  column_blocks(s, L::width, [&](int64_t base, int64_t cols) {
    A acc[kBlock];
    std::fill(acc, acc + cols, A(0));
    for (int64_t k = 0; k < s.n; ++k) {
      const T *yr = y + base + k * s.inner, *gr = dy + base + k * s.inner;
      sweep<L>(cols, [&](int64_t i, auto c) {
        auto g = ld<L>(gr + i, c, 0);
        st<LA>(acc + i, ld<LA>(acc + i, c, 0) + (log ? g : g * ld<L>(yr + i, c, 0)), c);
      });
    }
    for (int64_t k = 0; k < s.n; ++k) {
      const T *yr = y + base + k * s.inner, *gr = dy + base + k * s.inner;
      T* xr = dx + base + k * s.inner;
      sweep<L>(cols, [&](int64_t i, auto c) {
        auto g = ld<L>(gr + i, c, 0), yv = ld<L>(yr + i, c, 0), a = ld<LA>(acc + i, c, 0);
        st<L>(xr + i, log ? g - L::exp(yv) * a : yv * (g - a), c);
      });
    }
  });
}

}  // namespace

void softmax(bool log, const SoftmaxShape& s, const Tensor& x, const Tensor& out) {
  visit_float(x.dtype(), log ? "log_softmax" : "softmax", [&](auto v) {
    using T = decltype(v);
    const T* xp = static_cast<const T*>(x.raw_data());
    T* op = static_cast<T*>(out.raw_data());
    if (s.inner == 1) {
      rows_forward<T>(log, s.outer, s.n, xp, op);
    } else {
      columns_forward<T>(log, s, xp, op);
    }
  });
}

void softmax_backward(bool log, const SoftmaxShape& s, const Tensor& y, const Tensor& dy,
                      const Tensor& dx) {
  visit_float(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&](auto v) {
    using T = decltype(v);
    const T* yp = static_cast<const T*>(y.raw_data());
    const T* gp = static_cast<const T*>(dy.raw_data());
    T* xp = static_cast<T*>(dx.raw_data());
    if (s.inner == 1) {
      rows_backward<T>(log, s.outer, s.n, yp, gp, xp);
    } else {
      columns_backward<T>(log, s, yp, gp, xp);
    }
  });
}

}  // namespace kiln::ops::cpu
