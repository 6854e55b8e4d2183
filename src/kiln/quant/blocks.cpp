#include "kiln/quant/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kiln/core/error.h"
#include "kiln/core/half.h"

namespace kiln::quant {

namespace {

inline float h2f(uint16_t h) {
  return f16::to_float(h);
}
inline uint16_t f2h(float f) {
  return f16::from_float(f);
}

void require_blocks(int64_t n, int64_t block, const char* fmt) {
  KILN_CHECK(n % block == 0, fmt, " row of ", n, " elements is not a multiple of ", block);
}

// Sub-block fit for Q4_K: x ≈ s * q - b with q in [0, 15], s >= 0, b >= 0. Tries a grid of ranges
// around [min(x, 0), max(x)], refits s and b by least squares for each rounding, keeps the best.
void fit_scale_min(const float* x, int n, float& s_out, float& b_out) {
  float lo = 0.f, hi = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!(hi > lo)) {  // constant block at or below zero
    s_out = 0.f;
    b_out = -lo;
    return;
  }
  float best_s = (hi - lo) / 15.f, best_m = lo;
  float best_err = 0.f;
  for (int i = 0; i < n; ++i) {
    float q = std::clamp(std::nearbyint((x[i] - lo) / best_s), 0.f, 15.f);
    float e = best_s * q + best_m - x[i];
    best_err += e * e;
  }
  uint8_t q[32];
  for (int step = -10; step <= 10; ++step) {
    float iscale = (15.f + 0.1f * float(step)) / (hi - lo);
    float sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      q[i] = uint8_t(std::clamp(std::nearbyint((x[i] - lo) * iscale), 0.f, 15.f));
      sq += q[i];
      sqq += float(q[i]) * q[i];
      sx += x[i];
      sqx += q[i] * x[i];
    }
    float det = float(n) * sqq - sq * sq;
    if (det <= 0) continue;
    float s = (float(n) * sqx - sq * sx) / det;
    float m = (sqq * sx - sq * sqx) / det;
    if (m > 0) {  // the format only subtracts: refit the scale alone with the min at zero
      m = 0;
      s = sqx / sqq;
    }
    if (!(s > 0)) continue;
    float err = 0;
    for (int i = 0; i < n; ++i) {
      float e = s * q[i] + m - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      best_s = s;
      best_m = m;
    }
  }
  s_out = best_s;
  b_out = -best_m;
}

}  // namespace

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  require_blocks(n, kQ8_0Block, "q8_0");
  for (int64_t b = 0; b < n / kQ8_0Block; ++b, x += kQ8_0Block) {
    float amax = 0.f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    float d = amax / 127.f;
    float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = f2h(d);
    for (int i = 0; i < 32; ++i) y[b].qs[i] = int8_t(std::round(x[i] * id));
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  require_blocks(n, kQ8_0Block, "q8_0");
  for (int64_t b = 0; b < n / kQ8_0Block; ++b, y += kQ8_0Block) {
    float d = h2f(x[b].d);
    for (int i = 0; i < 32; ++i) y[i] = d * float(x[b].qs[i]);
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  require_blocks(n, kQ4_0Block, "q4_0");
  for (int64_t b = 0; b < n / kQ4_0Block; ++b, x += kQ4_0Block) {
    float amax = 0.f, m = 0.f;
    for (int i = 0; i < 32; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        m = x[i];
      }
    }
    float d = m / -8.f;
    float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = f2h(d);
    auto q = [&](float v) { return uint8_t(std::min(15, int(v * id + 8.5f))); };
    for (int i = 0; i < 16; ++i) y[b].qs[i] = uint8_t(q(x[i]) | (q(x[16 + i]) << 4));
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  require_blocks(n, kQ4_0Block, "q4_0");
  for (int64_t b = 0; b < n / kQ4_0Block; ++b, y += kQ4_0Block) {
    float d = h2f(x[b].d);
    for (int i = 0; i < 16; ++i) {
      y[i] = d * float(int(x[b].qs[i] & 0xF) - 8);
      y[16 + i] = d * float(int(x[b].qs[i] >> 4) - 8);
    }
  }
}

void pack_q4_k_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = uint8_t((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = uint8_t((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = uint8_t((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

void unpack_q4_k_scales(const uint8_t in[12], uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = in[j] & 63;
    m[j] = in[j + 4] & 63;
    sc[j + 4] = uint8_t((in[j + 8] & 0xF) | ((in[j] >> 6) << 4));
    m[j + 4] = uint8_t((in[j + 8] >> 4) | ((in[j + 4] >> 6) << 4));
  }
}

void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n) {
  require_blocks(n, kQ4_KBlock, "q4_k");
  for (int64_t b = 0; b < n / kQ4_KBlock; ++b, x += kQ4_KBlock) {
    float s[8], mn[8], smax = 0.f, mmax = 0.f;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min(x + 32 * j, 32, s[j], mn[j]);
      smax = std::max(smax, s[j]);
      mmax = std::max(mmax, mn[j]);
    }
    BlockQ4_K& blk = y[b];
    blk.d = f2h(smax / 63.f);
    blk.dmin = f2h(mmax / 63.f);
    // Quantize the scales against the stored (f16) d and dmin, which is what dequantizing sees.
    float d = h2f(blk.d), dmin = h2f(blk.dmin);
    float id = d > 0 ? 1.f / d : 0.f, idmin = dmin > 0 ? 1.f / dmin : 0.f;
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = uint8_t(std::min(63.f, std::nearbyint(s[j] * id)));
      m[j] = uint8_t(std::min(63.f, std::nearbyint(mn[j] * idmin)));
    }
    pack_q4_k_scales(sc, m, blk.scales);
    uint8_t q[256];
    for (int j = 0; j < 8; ++j) {
      float step = d * sc[j], off = dmin * m[j];
      float istep = step > 0 ? 1.f / step : 0.f;
      for (int i = 0; i < 32; ++i)
        q[32 * j + i] =
            uint8_t(std::clamp(std::nearbyint((x[32 * j + i] + off) * istep), 0.f, 15.f));
    }
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 32; ++i)
        blk.qs[32 * c + i] = uint8_t(q[64 * c + i] | (q[64 * c + 32 + i] << 4));
  }
}

void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
  require_blocks(n, kQ4_KBlock, "q4_k");
  for (int64_t b = 0; b < n / kQ4_KBlock; ++b) {
    const BlockQ4_K& blk = x[b];
    float d = h2f(blk.d), dmin = h2f(blk.dmin);
    uint8_t sc[8], m[8];
    unpack_q4_k_scales(blk.scales, sc, m);
    for (int c = 0; c < 4; ++c) {
      float d0 = d * sc[2 * c], m0 = dmin * m[2 * c];
      float d1 = d * sc[2 * c + 1], m1 = dmin * m[2 * c + 1];
      const uint8_t* qs = blk.qs + 32 * c;
      for (int i = 0; i < 32; ++i) *y++ = d0 * float(qs[i] & 0xF) - m0;
      for (int i = 0; i < 32; ++i) *y++ = d1 * float(qs[i] >> 4) - m1;
    }
  }
}

void quantize_row(DType t, const float* x, void* y, int64_t n) {
  switch (t) {
    case DType::Q8_0:
      return quantize_row_q8_0(x, static_cast<BlockQ8_0*>(y), n);
    case DType::Q4_0:
      return quantize_row_q4_0(x, static_cast<BlockQ4_0*>(y), n);
    case DType::Q4_K:
      return quantize_row_q4_k(x, static_cast<BlockQ4_K*>(y), n);
    default:
      break;
  }
  throw Error(str("quantize_row: ", dtype_name(t), " is not a block-quantized type"));
}

void dequantize_row(DType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case DType::Q8_0:
      return dequantize_row_q8_0(static_cast<const BlockQ8_0*>(x), y, n);
    case DType::Q4_0:
      return dequantize_row_q4_0(static_cast<const BlockQ4_0*>(x), y, n);
    case DType::Q4_K:
      return dequantize_row_q4_k(static_cast<const BlockQ4_K*>(x), y, n);
    default:
      break;
  }
  throw Error(str("dequantize_row: ", dtype_name(t), " is not a block-quantized type"));
}

}  // namespace kiln::quant
