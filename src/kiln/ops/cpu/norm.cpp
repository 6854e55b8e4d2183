// RMSNorm and LayerNorm: one pass over each row for the statistics, one to write; rows in
// parallel. The weight and bias gradients are summed over rows into one partial per part of the
// row range, then the partials are added, so the result does not depend on scheduling.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/row.h"
#include "kiln/ops/cpu/simd.h"
#include "kiln/ops/norm.h"

namespace kiln::ops::cpu {

namespace {

// A contiguous tensor as [rows, last dim]; undefined stays undefined.
Tensor as_matrix(const Tensor& t) {
  return t.defined() ? t.view({-1, t.size(-1)}) : t;
}

// weight (or bias) as A; `fill` where undefined.
template <class A, class T>
std::vector<A> param_as(const Tensor& p, int64_t D, A fill) {
  std::vector<A> out(static_cast<size_t>(D), fill);
  if (p.defined()) {
    const T* src = p.data<T>();
    for (int64_t d = 0; d < D; ++d) out[d] = A(src[d]);
  }
  return out;
}

// Runs fn(r0, r1, partial) over parts of [0, rows), each with its own zeroed row of `width`
// partial sums, and returns the partials [parts][width].
template <class A, class Fn>
std::vector<A> over_parts(int64_t rows, int64_t width, Fn&& fn) {
  int64_t parts = std::clamp<int64_t>(num_threads(), 1, std::max<int64_t>(rows, 1));
  std::vector<A> partial(static_cast<size_t>(parts * width), A(0));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      fn(rows * p / parts, rows * (p + 1) / parts, partial.data() + p * width);
  });
  return partial;
}

// out[d] = sum over parts of partial[part * stride + offset + d], stored as T.
template <class T, class A>
void sum_parts(const std::vector<A>& partial, int64_t stride, int64_t offset, const Tensor& out) {
  T* o = out.data<T>();
  int64_t parts = int64_t(partial.size()) / stride;
  for (int64_t d = 0; d < out.numel(); ++d) {
    A acc = 0;
    for (int64_t p = 0; p < parts; ++p) acc += partial[p * stride + offset + d];
    o[d] = T(acc);
  }
}

int64_t row_grain(int64_t D) {
  return std::max<int64_t>(1, 16384 / D);
}

template <class T>
void rms_fwd(const Tensor& x_in, const Tensor& weight, double eps, const Tensor& y_in,
             const Tensor& rstd) {
  using A = acc_t<T>;
  Tensor x = as_matrix(x_in), y = as_matrix(y_in);
  int64_t rows = x.size(0), D = x.size(1);
  A* r0 = rstd.data<A>();
  std::vector<A> w = param_as<A, T>(weight, D, A(1));
  parallel_for(rows, row_grain(D), [&](int64_t b, int64_t e) {
    std::vector<A> buf = row_buffer<A, T>(D);
    for (int64_t i = b; i < e; ++i) {
      const A* xr = row_as<A, T>(x, i, buf);
      A r = A(1) / std::sqrt(simd::sum_sq(xr, D) / A(D) + A(eps));
      r0[i] = r;
      T* yr = row_ptr<T>(y, i);
      if constexpr (std::is_same_v<T, A>) {
        for (int64_t d = 0; d < D; ++d) yr[d] = xr[d] * r * w[d];
      } else {  // Hugging Face rounds x * r to the input type before the weight multiplies it
        for (int64_t d = 0; d < D; ++d) yr[d] = T(A(T(xr[d] * r)) * w[d]);
      }
    }
  });
}

// y = x r w with r = (mean(x^2) + eps)^-1/2: dx = r (gw - x r^2 mean(gw x)) with gw = dy w;
// dweight = sum over rows of dy x r.
template <class T>
void rms_bwd(const Tensor& dy_in, const Tensor& x_in, const Tensor& weight, const Tensor& rstd,
             const Tensor& dx_in, const Tensor& dweight) {
  using A = acc_t<T>;
  Tensor x = as_matrix(x_in), dy = as_matrix(dy_in), dx = as_matrix(dx_in);
  int64_t rows = x.size(0), D = x.size(1);
  const A* r0 = rstd.data<A>();
  bool need_dw = dweight.defined();
  std::vector<A> w = param_as<A, T>(weight, D, A(1));
  std::vector<A> partial = over_parts<A>(rows, need_dw ? D : 0, [&](int64_t b, int64_t e, A* pw) {
    std::vector<A> xb = row_buffer<A, T>(D), gb = row_buffer<A, T>(D);
    std::vector<A> gw(static_cast<size_t>(D));
    for (int64_t i = b; i < e; ++i) {
      const A* xr = row_as<A, T>(x, i, xb);
      const A* gr = row_as<A, T>(dy, i, gb);
      A r = r0[i];
      if (dx.defined()) {
        for (int64_t d = 0; d < D; ++d) gw[d] = gr[d] * w[d];
        A c = r * r * simd::dot(gw.data(), xr, D) / A(D);
        T* o = row_ptr<T>(dx, i);
        for (int64_t d = 0; d < D; ++d) o[d] = T(r * (gw[d] - xr[d] * c));
      }
      if (need_dw)
        for (int64_t d = 0; d < D; ++d) pw[d] += gr[d] * xr[d] * r;
    }
  });
  if (need_dw) sum_parts<T>(partial, D, 0, dweight);
}

template <class T>
void ln_fwd(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps,
            const Tensor& y_in, const Tensor& mean, const Tensor& rstd) {
  using A = acc_t<T>;
  Tensor x = as_matrix(x_in), y = as_matrix(y_in);
  int64_t rows = x.size(0), D = x.size(1);
  A* m0 = mean.data<A>();
  A* r0 = rstd.data<A>();
  std::vector<A> w = param_as<A, T>(weight, D, A(1)), bs = param_as<A, T>(bias, D, A(0));
  parallel_for(rows, row_grain(D), [&](int64_t b, int64_t e) {
    std::vector<A> buf = row_buffer<A, T>(D), xc(static_cast<size_t>(D));
    for (int64_t i = b; i < e; ++i) {
      const A* xr = row_as<A, T>(x, i, buf);
      A mu = simd::sum(xr, D) / A(D);
      for (int64_t d = 0; d < D; ++d) xc[d] = xr[d] - mu;
      A r = A(1) / std::sqrt(simd::sum_sq(xc.data(), D) / A(D) + A(eps));
      m0[i] = mu;
      r0[i] = r;
      T* yr = row_ptr<T>(y, i);
      for (int64_t d = 0; d < D; ++d) yr[d] = T(xc[d] * r * w[d] + bs[d]);
    }
  });
}

// xh = (x - mean) r and gw = dy w: dx = r (gw - mean(gw) - xh mean(gw xh)); dweight = sum dy xh;
// dbias = sum dy.
template <class T>
void ln_bwd(const Tensor& dy_in, const Tensor& x_in, const Tensor& weight, const Tensor& mean,
            const Tensor& rstd, const Tensor& dx_in, const Tensor& dweight, const Tensor& dbias) {
  using A = acc_t<T>;
  Tensor x = as_matrix(x_in), dy = as_matrix(dy_in), dx = as_matrix(dx_in);
  int64_t rows = x.size(0), D = x.size(1);
  const A* m0 = mean.data<A>();
  const A* r0 = rstd.data<A>();
  bool need_dw = dweight.defined(), need_db = dbias.defined();
  std::vector<A> w = param_as<A, T>(weight, D, A(1));
  // partials per part: [dweight | dbias]
  std::vector<A> partial = over_parts<A>(rows, 2 * D, [&](int64_t b, int64_t e, A* pw) {
    std::vector<A> xb = row_buffer<A, T>(D), gb = row_buffer<A, T>(D);
    std::vector<A> xh(static_cast<size_t>(D)), gw(static_cast<size_t>(D));
    for (int64_t i = b; i < e; ++i) {
      const A* xr = row_as<A, T>(x, i, xb);
      const A* gr = row_as<A, T>(dy, i, gb);
      A mu = m0[i], r = r0[i];
      for (int64_t d = 0; d < D; ++d) xh[d] = (xr[d] - mu) * r;
      if (dx.defined()) {
        for (int64_t d = 0; d < D; ++d) gw[d] = gr[d] * w[d];
        A c1 = simd::sum(gw.data(), D) / A(D), c2 = simd::dot(gw.data(), xh.data(), D) / A(D);
        T* o = row_ptr<T>(dx, i);
        for (int64_t d = 0; d < D; ++d) o[d] = T(r * (gw[d] - c1 - xh[d] * c2));
      }
      if (need_dw)
        for (int64_t d = 0; d < D; ++d) pw[d] += gr[d] * xh[d];
      if (need_db)
        for (int64_t d = 0; d < D; ++d) pw[D + d] += gr[d];
    }
  });
  if (need_dw) sum_parts<T>(partial, 2 * D, 0, dweight);
  if (need_db) sum_parts<T>(partial, 2 * D, D, dbias);
}

}  // namespace

void rms_norm(const Tensor& x, const Tensor& weight, double eps, const Tensor& y,
              const Tensor& rstd) {
  visit_float(x.dtype(), "rms_norm",
              [&](auto t) { rms_fwd<decltype(t)>(x, weight, eps, y, rstd); });
}

void rms_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dx, const Tensor& dweight) {
  visit_float(x.dtype(), "rms_norm backward",
              [&](auto t) { rms_bwd<decltype(t)>(dy, x, weight, rstd, dx, dweight); });
}

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  visit_float(x.dtype(), "layer_norm",
              [&](auto t) { ln_fwd<decltype(t)>(x, weight, bias, eps, y, mean, rstd); });
}

void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx,
                         const Tensor& dweight, const Tensor& dbias) {
  visit_float(x.dtype(), "layer_norm backward",
              [&](auto t) { ln_bwd<decltype(t)>(dy, x, weight, mean, rstd, dx, dweight, dbias); });
}

}  // namespace kiln::ops::cpu
