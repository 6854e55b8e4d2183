#include "kiln/infer/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/simd.h"

namespace kiln::infer {

namespace {

namespace simd = ops::cpu::simd;
using V = simd::Vec<float>;
constexpr int64_t L = simd::kLanes<float>;
constexpr int64_t kRun = 64;  // keys scored together: a run never crosses a block

// q . k over d floats: two vector accumulators, added as a tree (simd::dot's chain of lane adds
// was a fifth of a 64-sequence decode step's attention).
float dot(const float* q, const float* k, int64_t d) {
  V a0{}, a1{};
  int64_t j = 0;
  for (; j + 2 * L <= d; j += 2 * L) {
    a0 += simd::load(q + j) * simd::load(k + j);
    a1 += simd::load(q + j + L) * simd::load(k + j + L);
  }
  for (; j + L <= d; j += L) a0 += simd::load(q + j) * simd::load(k + j);
  float s = simd::tree_sum(a0 + a1);
  for (; j < d; ++j) s += q[j] * k[j];
  return s;
}

// o[0, d) = o * c + sum_i w[i] v_i, the v_i `d` floats apart.
void scale_add(float* o, float c, const float* w, const float* v, int64_t n, int64_t d) {
  int64_t j = 0;
  for (; j + L <= d; j += L) {
    V acc = simd::load(o + j) * c;
    for (int64_t i = 0; i < n; ++i) acc += simd::splat(w[i]) * simd::load(v + i * d + j);
    simd::store(o + j, acc);
  }
  for (; j < d; ++j) {
    float acc = o[j] * c;
    for (int64_t i = 0; i < n; ++i) acc += w[i] * v[i * d + j];
    o[j] = acc;
  }
}

// Head h of one query: softmax(q . k / sqrt(d)) v over keys [from, to), serially, in position
// order, a run of up to kRun keys of one block at a time (scores, one max and one rescale per
// run, exps across lanes). Both entry points run exactly this, so a head's result never depends
// on how the work was split.
void decode_head(const float* q, float* out, int64_t h, int64_t group, int64_t d,
                 int64_t block_size, const float* const* block_k, const float* const* block_v,
                 int64_t from, int64_t to) {
  const float scale = 1.0f / std::sqrt(float(d));
  const float* qh = q + h * d;
  float* o = out + h * d;
  for (int64_t j = 0; j < d; ++j) o[j] = 0;
  int64_t g = h / group;
  // Online softmax: running max m and normalizer z; o holds the unnormalized sum.
  float m = -std::numeric_limits<float>::infinity(), z = 0;
  alignas(64) float w[kRun] = {};
  for (int64_t p = from; p < to;) {
    int64_t in_block = p % block_size;
    int64_t n = std::min({to - p, block_size - in_block, kRun});
    int64_t off = (g * block_size + in_block) * d;
    const float* k = block_k[p / block_size] + off;
    const float* v = block_v[p / block_size] + off;
    float run_max = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      w[i] = dot(qh, k + i * d, d) * scale;
      run_max = std::max(run_max, w[i]);
    }
    float m_new = std::max(m, run_max);
    float c = simd::exp1(m - m_new);  // 0 on the first run (m = -inf)
    V zs{};
    for (int64_t i = 0; i < n; i += L) {
      V e = simd::exp(simd::load(w + i) - m_new);
      // Lanes past the run's end hold stale scores: they count for nothing.
      if (n - i < L)
        for (int64_t l = n - i; l < L; ++l) e[l] = 0;
      simd::store(w + i, e);
      zs += e;
    }
    z = z * c + simd::hsum<float>(zs);
    scale_add(o, c, w, v, n, d);
    m = m_new;
    p += n;
  }
  float inv = z > 0 ? 1.0f / z : 0.0f;  // no key: zeros, as the attention op gives
  for (int64_t j = 0; j < d; ++j) o[j] *= inv;
}

}  // namespace

void paged_decode_attention(const float* q, float* out, int64_t heads, int64_t kv_heads,
                            int64_t head_dim, int64_t block_size, const float* const* block_k,
                            const float* const* block_v, int64_t from, int64_t to) {
  PagedDecodeView view{block_k, block_v, from, to};
  paged_decode_attention_rows(q, out, 1, heads, kv_heads, head_dim, block_size, &view);
}

void paged_decode_attention_rows(const float* q, float* out, int64_t rows, int64_t heads,
                                 int64_t kv_heads, int64_t head_dim, int64_t block_size,
                                 const PagedDecodeView* views) {
  const int64_t group = heads / kv_heads, row_size = heads * head_dim;
  // One pass over every (row, head): one wake-up of the pool for the whole batch, not one per row.
  parallel_for(rows * heads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t r = i / heads;
      const PagedDecodeView& v = views[r];
      decode_head(q + r * row_size, out + r * row_size, i % heads, group, head_dim, block_size,
                  v.block_k, v.block_v, v.from, v.to);
    }
  });
}

}  // namespace kiln::infer
