#include <cmath>
#include <limits>

#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/reduce.h"

namespace kiln::ops::cpu {

namespace {

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
  parallel_for(n_out, std::max<int64_t>(1, 8192 / std::max<int64_t>(n_red, 1)),
               [&](int64_t b, int64_t e) {
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
  visit_float(x.dtype(), "reduce", [&](auto v) { run<decltype(v)>(op, x, dims, out, indices); });
}

}  // namespace kiln::ops::cpu
