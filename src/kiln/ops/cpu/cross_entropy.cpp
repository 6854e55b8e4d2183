// Fused cross-entropy. Forward: per row a max pass and an exp-sum pass (the row stays in cache
// between them), the row's loss summed into a per-part partial. Backward writes each row of
// dlogits in one pass from the saved log-sum-exp:
//   dlogits[j] = g / n_valid * (softmax[j] (1 + 2 z lse) - eps / V - (1 - eps) [j == target]).
// Focal loss L = -(1 - p_t)^gamma log p_t depends on the logits only through lp = log p_t, and
// d lp / d x_j = [j == target] - softmax[j], so with f = dL/dlp it becomes
//   dlogits[j] = g / n_valid * (softmax[j] (2 z lse - f) + f [j == target]),
//   f = gamma (1 - p_t)^(gamma - 1) p_t lp - (1 - p_t)^gamma.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/row.h"
#include "kiln/ops/cpu/simd.h"
#include "kiln/ops/cross_entropy.h"

namespace kiln::ops::cpu {

namespace {

template <class I>
int64_t target_at(const Tensor& targets, int64_t i) {
  return int64_t(static_cast<const I*>(targets.raw_data())[i]);
}

int64_t target(const Tensor& targets, int64_t i) {
  return targets.dtype() == DType::I32 ? target_at<int32_t>(targets, i)
                                       : target_at<int64_t>(targets, i);
}

// f = dL/dlp of the focal term at lp = log p_t. 1 - p_t comes from expm1 so that it keeps its
// precision when p_t is near 1, and (1 - p_t)^(gamma - 1) is formed as (1 - p_t)^gamma / (1 - p_t)
// so that gamma < 1 gives the limit 0 instead of inf * 0 when p_t rounds to 1.
template <class A>
A focal_dlp(A lp, A gamma) {
  A q = -std::expm1(lp), qg = std::pow(q, gamma);
  A first = q > A(0) ? gamma * qg / q * std::exp(lp) * lp : A(0);
  return first - qg;
}

template <class T>
void fwd(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p, int64_t n_valid,
         const Tensor& loss, const Tensor& lse) {
  using A = acc_t<T>;
  int64_t N = logits.size(0), V = logits.size(1);
  A eps = A(p.label_smoothing), z = A(p.z_loss), gamma = A(p.focal_gamma);
  A* lse0 = lse.data<A>();
  int64_t parts = std::clamp<int64_t>(4 * num_threads(), 1, std::max<int64_t>(N, 1));
  std::vector<double> partial(size_t(parts), 0.0);
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    std::vector<A> buf = row_buffer<A, T>(V);
    for (int64_t part = p0; part < p1; ++part) {
      double acc = 0;
      for (int64_t i = N * part / parts; i < N * (part + 1) / parts; ++i) {
        int64_t t = target(targets, i);
        if (t == p.ignore_index) continue;
        const A* x = row_as<A, T>(logits, i, buf);
        A m = simd::max(x, V);
        A l = m + std::log(simd::sum_exp(x, V, m));
        lse0[i] = l;
        A row = (A(1) - eps) * (l - x[t]);
        if (gamma != A(0)) row *= std::pow(-std::expm1(x[t] - l), gamma);
        if (eps != A(0)) row += eps * (l - simd::sum(x, V) / A(V));
        if (z != A(0)) row += z * l * l;
        acc += double(row);
      }
      partial[part] = acc;
    }
  });
  double total = 0;
  for (double v : partial) total += v;
  loss.data<T>()[0] = T(A(total / double(n_valid)));
}

template <class T>
void bwd(const Tensor& dloss, const Tensor& logits, const Tensor& targets, const Tensor& lse,
         const CrossEntropyParams& p, int64_t n_valid, const Tensor& dlogits) {
  using A = acc_t<T>;
  constexpr int64_t L = simd::kLanes<A>;
  int64_t N = logits.size(0), V = logits.size(1);
  A eps = A(p.label_smoothing), z = A(p.z_loss), gamma = A(p.focal_gamma);
  A c = A(dloss.item() / double(n_valid));
  const A* lse0 = lse.data<A>();
  T* d0 = dlogits.data<T>();
  parallel_for(N, 1, [&](int64_t b, int64_t e) {
    std::vector<A> buf = row_buffer<A, T>(V), out = row_buffer<A, T>(V);
    for (int64_t i = b; i < e; ++i) {
      T* d = d0 + i * V;
      int64_t t = target(targets, i);
      if (t == p.ignore_index) {
        std::fill(d, d + V, T(A(0)));
        continue;
      }
      const A* x = row_as<A, T>(logits, i, buf);
      A l = lse0[i];
      // Without focal loss f = -(1 - eps) on the target; the softmax coefficient stays 1 because
      // the smoothing term contributes eps * softmax[j] of it.
      A f = gamma != A(0) ? focal_dlp(x[t] - l, gamma) : -(A(1) - eps);
      A scale = c * (2 * z * l + (gamma != A(0) ? -f : A(1))), shift = c * eps / A(V);
      A* o = out.data();  // the row of dlogits itself when T is A
      if constexpr (std::is_same_v<T, A>) o = d;
      int64_t j = 0;
      simd::Vec<A> ls = simd::splat(l), sc = simd::splat(scale), sh = simd::splat(shift);
      for (; j + L <= V; j += L) simd::store(o + j, simd::exp(simd::load(x + j) - ls) * sc - sh);
      for (; j < V; ++j) o[j] = simd::exp1(x[j] - l) * scale - shift;
      o[t] += c * f;
      if constexpr (!std::is_same_v<T, A>)
        for (int64_t k = 0; k < V; ++k) d[k] = T(o[k]);
    }
  });
}

}  // namespace

void cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                   int64_t n_valid, const Tensor& loss, const Tensor& lse) {
  visit_float(logits.dtype(), "cross_entropy",
              [&](auto t) { fwd<decltype(t)>(logits, targets, p, n_valid, loss, lse); });
}

void cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                            const Tensor& lse, const CrossEntropyParams& p, int64_t n_valid,
                            const Tensor& dlogits) {
  visit_float(logits.dtype(), "cross_entropy backward",
              [&](auto t) { bwd<decltype(t)>(dloss, logits, targets, lse, p, n_valid, dlogits); });
}

}  // namespace kiln::ops::cpu
