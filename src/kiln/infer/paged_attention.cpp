#include "kiln/infer/paged_attention.h"

#include <cmath>
#include <limits>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/simd.h"

namespace kiln::infer {

void paged_decode_attention(const float* q, float* out, int64_t heads, int64_t kv_heads,
                            int64_t head_dim, int64_t block_size, const float* const* block_k,
                            const float* const* block_v, int64_t from, int64_t to) {
  const int64_t group = heads / kv_heads, d = head_dim;
  const float scale = 1.0f / std::sqrt(float(d));
  parallel_for(heads, 1, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      const float* qh = q + h * d;
      float* o = out + h * d;
      for (int64_t j = 0; j < d; ++j) o[j] = 0;
      int64_t g = h / group;
      // Online softmax: running max m and normalizer z; o holds the unnormalized sum.
      float m = -std::numeric_limits<float>::infinity(), z = 0;
      for (int64_t p = from; p < to; ++p) {
        int64_t off = (g * block_size + p % block_size) * d;
        const float* kr = block_k[p / block_size] + off;
        const float* vr = block_v[p / block_size] + off;
        float s = ops::cpu::simd::dot(qh, kr, d) * scale;
        if (s > m) {
          float c = std::exp(m - s);  // 0 on the first key (m = -inf)
          z *= c;
          for (int64_t j = 0; j < d; ++j) o[j] *= c;
          m = s;
        }
        float w = std::exp(s - m);
        z += w;
        for (int64_t j = 0; j < d; ++j) o[j] += w * vr[j];
      }
      float inv = z > 0 ? 1.0f / z : 0.0f;  // no key: zeros, as the attention op gives
      for (int64_t j = 0; j < d; ++j) o[j] *= inv;
    }
  });
}

}  // namespace kiln::infer
