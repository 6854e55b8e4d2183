#include <cmath>
#include <limits>

#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/reduce.h"

namespace kiln::ops::cpu {

namespace {

// Sum of a contiguous row: 16 independent f32 lanes (vectorized by the compiler) folded in f64,
// so long rows keep their accuracy without a serial dependency on one accumulator.
template <class T>
double row_sum(const T* p, int64_t n) {
  using A = acc_t<T>;
  constexpr int L = 16;
  A lanes[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) lanes[l] += A(p[i + l]);
  double s = 0;
  for (int l = 0; l < L; ++l) s += double(lanes[l]);
  for (; i < n; ++i) s += double(A(p[i]));
  return s;
}

// Reductions over the trailing dims of a contiguous tensor: independent contiguous rows.
template <class T>
bool run_rows(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out) {
  if (op == ReduceOp::Max || !x.is_contiguous() || !out.is_contiguous()) return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[dims.size() - 1 - i] != x.dim() - 1 - int64_t(i)) return false;
  int64_t n = 1;
  for (int64_t d : dims) n *= x.size(d);
  int64_t rows = n ? x.numel() / n : out.numel();
  const T* x0 = static_cast<const T*>(x.raw_data());
  T* o0 = static_cast<T*>(out.raw_data());
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   double s = n ? row_sum(x0 + r * n, n) : 0.0;
                   if (op == ReduceOp::Mean) s /= double(n);
                   o0[r] = T(acc_t<T>(s));
                 }
               });
  return true;
}

// Splits x's dims into kept (outer) and reduced (inner) sets and walks each output element's
// reduced sub-tensor with a StridedLoop.
template <class T>
void run(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
         const Tensor& indices) {
  using A = acc_t<T>;
  Shape red_sizes, red_strides, keep_sizes, keep_strides, out_strides;
  for (int64_t d = 0, k = 0; d < x.dim(); ++d) {
    bool reduced = k < int64_t(dims.size()) && dims[k] == d;
    if (reduced) {
      red_sizes.push_back(x.size(d));
      red_strides.push_back(x.stride(d));
      ++k;
    } else {
      keep_sizes.push_back(x.size(d));
      keep_strides.push_back(x.stride(d));
      out_strides.push_back(out.stride(d));
    }
  }
  int64_t n_red = numel_of(red_sizes);
  StridedLoop<1> red(red_sizes, {red_strides});
  StridedLoop<2> keep(keep_sizes, {keep_strides, out_strides});
  const T* x0 = static_cast<const T*>(x.raw_data());
  T* o0 = static_cast<T*>(out.raw_data());
  int64_t* i0 = indices.defined() ? indices.data<int64_t>() : nullptr;
  int64_t n_out = numel_of(keep_sizes);
  int64_t ri = red.inner(), rs = red.inner_strides()[0];
  int64_t kinner = keep.inner();
  auto ks = keep.inner_strides();
  parallel_for(
      n_out, std::max<int64_t>(1, 8192 / std::max<int64_t>(n_red, 1)), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          auto ko = keep.offsets(i / kinner);
          int64_t j = i % kinner;
          const T* xb = x0 + ko[0] + j * ks[0];
          int64_t oo = ko[1] + j * ks[1];
          if (op == ReduceOp::Max) {
            A best = -std::numeric_limits<A>::infinity();
            int64_t arg = 0, pos = 0;
            bool found_nan = false;
            for (int64_t r = 0; r < red.outer_count() && !found_nan; ++r) {
              const T* p = xb + red.offsets(r)[0];
              for (int64_t q = 0; q < ri; ++q, ++pos) {
                A v = A(p[q * rs]);
                if (std::isnan(v)) {
                  best = v, arg = pos, found_nan = true;
                  break;
                }
                if (v > best || pos == 0) best = v, arg = pos;
              }
            }
            o0[oo] = T(best);
            if (i0) i0[oo] = arg;
          } else {
            double acc = 0;  // f64 accumulation: sums here are not the hot path, accuracy is
            for (int64_t r = 0; r < red.outer_count(); ++r) {
              const T* p = xb + red.offsets(r)[0];
              if (rs == 1) {
                for (int64_t q = 0; q < ri; ++q) acc += double(A(p[q]));
              } else {
                for (int64_t q = 0; q < ri; ++q) acc += double(A(p[q * rs]));
              }
            }
            if (op == ReduceOp::Mean) acc /= double(n_red);
            o0[oo] = T(A(acc));
          }
        }
      });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
            const Tensor& indices) {
  visit_float(x.dtype(), "reduce", [&](auto v) {
    using T = decltype(v);
    if (!run_rows<T>(op, x, dims, out)) run<T>(op, x, dims, out, indices);
  });
}

}  // namespace kiln::ops::cpu
