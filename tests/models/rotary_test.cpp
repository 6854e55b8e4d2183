// RoPE frequency tables for each rope_type and the ALiBi slopes.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "kiln/nn/alibi.h"
#include "kiln/nn/rotary.h"

namespace kiln::nn {
namespace {

RopeConfig cfg(const std::string& type, double factor, int64_t dim = 64, double theta = 10000) {
  RopeConfig c;
  c.head_dim = dim;
  c.theta = theta;
  c.max_position_embeddings = 4096;
  c.scaling.rope_type = type;
  c.scaling.factor = factor;
  return c;
}

double plain(double theta, int64_t i, int64_t dim) {
  return 1.0 / std::pow(theta, double(2 * i) / double(dim));
}

TEST(Rope, DefaultAndLinear) {
  RopeFrequencies d = rope_frequencies(cfg("default", 1));
  RopeFrequencies l = rope_frequencies(cfg("linear", 4));
  ASSERT_EQ(d.inv_freq.size(), 32u);
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_NEAR(d.inv_freq[size_t(i)], plain(10000, i, 64), 2e-7 * plain(10000, i, 64));
    EXPECT_FLOAT_EQ(l.inv_freq[size_t(i)], d.inv_freq[size_t(i)] / 4.f);
  }
  EXPECT_EQ(d.attention_scaling, 1.f);
}

TEST(Rope, PartialRotary) {
  RopeConfig c = cfg("default", 1);
  c.partial_rotary_factor = 0.5;
  RopeFrequencies f = rope_frequencies(c);
  ASSERT_EQ(f.inv_freq.size(), 16u);
  EXPECT_NEAR(f.inv_freq[1], plain(10000, 1, 32), 1e-7);
  RotaryEmbedding r(c);
  auto [cs, sn] = r.cos_sin(Tensor::arange(5), DType::F32);
  EXPECT_EQ(cs.sizes(), (Shape{1, 5, 16}));
  EXPECT_NEAR(cs.to_vector<float>()[16 * 3 + 1], std::cos(3 * f.inv_freq[1]), 1e-6);
  EXPECT_NEAR(sn.to_vector<float>()[16 * 3 + 1], std::sin(3 * f.inv_freq[1]), 1e-6);
}

TEST(Rope, DynamicNtkGrowsBaseOnlyPastMaxPositions) {
  RopeConfig c = cfg("dynamic", 2);
  RopeFrequencies base = rope_frequencies(cfg("default", 1));
  RopeFrequencies shortseq = rope_frequencies(c, 100);
  for (size_t i = 0; i < base.inv_freq.size(); ++i)
    EXPECT_FLOAT_EQ(shortseq.inv_freq[i], base.inv_freq[i]);
  RopeFrequencies longseq = rope_frequencies(c, 8192);
  double theta = 10000 * std::pow(2.0 * 8192 / 4096 - 1, 64.0 / 62.0);
  EXPECT_NEAR(longseq.inv_freq[5], plain(theta, 5, 64), 1e-6 * plain(theta, 5, 64));
  // cos_sin uses the largest position of the call.
  RotaryEmbedding r(c);
  auto [cs, sn] = r.cos_sin(Tensor::from_vector<int64_t>({0, 8191}, {2}), DType::F32);
  EXPECT_NEAR(cs.to_vector<float>()[32 + 5], std::cos(8191.f * longseq.inv_freq[5]), 1e-4);
}

TEST(Rope, YarnRampAndAttentionFactor) {
  RopeConfig c = cfg("yarn", 4, 64, 10000);
  c.scaling.original_max_position_embeddings = 1024;
  RopeFrequencies f = rope_frequencies(c);
  EXPECT_FLOAT_EQ(f.attention_scaling, float(0.1 * std::log(4.0) + 1.0));
  // Correction dims: d(r) = 64 ln(1024 / (2 pi r)) / (2 ln 10000); low = floor(d(32)),
  // high = ceil(d(1)). Below low the frequency is kept, from high on it is divided by factor.
  auto d = [](double r) {
    return 64 * std::log(1024 / (2 * std::numbers::pi * r)) / (2 * std::log(10000.0));
  };
  int64_t low = int64_t(std::floor(d(32))), high = int64_t(std::ceil(d(1)));
  ASSERT_EQ(low, 5);
  ASSERT_EQ(high, 18);
  RopeFrequencies plainf = rope_frequencies(cfg("default", 1));
  for (size_t i = 0; i <= 5; ++i) EXPECT_FLOAT_EQ(f.inv_freq[i], plainf.inv_freq[i]);
  for (size_t i = 18; i < 32; ++i) EXPECT_NEAR(f.inv_freq[i], plainf.inv_freq[i] / 4, 1e-9);
  // In between: the ramp (i - low) / (high - low) of interpolation.
  double ramp = (10.0 - 5) / 13.0;
  EXPECT_NEAR(f.inv_freq[10], plainf.inv_freq[10] * (1 - ramp) + plainf.inv_freq[10] / 4 * ramp,
              1e-7);
  c.scaling.mscale = 1.0;
  c.scaling.mscale_all_dim = 0.5;
  double m = (0.1 * 1.0 * std::log(4.0) + 1) / (0.1 * 0.5 * std::log(4.0) + 1);
  EXPECT_FLOAT_EQ(rope_frequencies(c).attention_scaling, float(m));
  c.scaling.attention_factor = 1.5;
  EXPECT_FLOAT_EQ(rope_frequencies(c).attention_scaling, 1.5f);
  RotaryEmbedding r(c);
  auto [cs, sn] = r.cos_sin(Tensor::arange(1), DType::F32);
  EXPECT_FLOAT_EQ(cs.to_vector<float>()[0], 1.5f);  // cos(0) * attention factor
}

TEST(Rope, Llama3) {
  // Llama 3.2's scaling: factor 32, low 1, high 4, original context 8192, theta 500000.
  RopeConfig c = cfg("llama3", 32, 64, 500000);
  c.scaling.low_freq_factor = 1;
  c.scaling.high_freq_factor = 4;
  c.scaling.original_max_position_embeddings = 8192;
  RopeFrequencies f = rope_frequencies(c);
  RopeFrequencies p = rope_frequencies(cfg("default", 1, 64, 500000));
  int kept = 0, divided = 0, smoothed = 0;
  for (size_t i = 0; i < 32; ++i) {
    double wavelen = 2 * std::numbers::pi / p.inv_freq[i];
    if (wavelen < 8192.0 / 4) {
      EXPECT_FLOAT_EQ(f.inv_freq[i], p.inv_freq[i]);
      ++kept;
    } else if (wavelen > 8192.0) {
      EXPECT_FLOAT_EQ(f.inv_freq[i], p.inv_freq[i] / 32);
      ++divided;
    } else {
      double s = (8192 / wavelen - 1) / 3;
      EXPECT_NEAR(f.inv_freq[i], (1 - s) * p.inv_freq[i] / 32 + s * p.inv_freq[i],
                  1e-6 * p.inv_freq[i]);
      ++smoothed;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(smoothed, 0);
}

TEST(Rope, RejectsBadConfigs) {
  EXPECT_THROW(RotaryEmbedding(cfg("ntk-by-parts", 2)), Error);
  RopeConfig odd = cfg("default", 1);
  odd.partial_rotary_factor = 0.3;  // 19 dims
  EXPECT_THROW(RotaryEmbedding{odd}, Error);
  EXPECT_THROW(RotaryEmbedding(cfg("linear", 0.5)), Error);
}

TEST(Alibi, Slopes) {
  std::vector<float> s8 = alibi_slopes(8);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(s8[size_t(i)], std::pow(2.f, -float(i + 1)));
  // 6 heads: the 4-head sequence, then the odd terms of the 8-head one.
  std::vector<float> s6 = alibi_slopes(6);
  std::vector<float> want{0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f};
  for (size_t i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(s6[i], want[i]);
  Tensor b = alibi_bias(s8, 2, 3, 1, DType::F32);  // queries at 1, 2; keys 0..2
  EXPECT_EQ(b.sizes(), (Shape{1, 8, 2, 3}));
  std::vector<float> v = b.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], -0.5f);      // head 0, query 1, key 0
  EXPECT_FLOAT_EQ(v[3 + 0], -1.0f);  // query 2, key 0
  EXPECT_FLOAT_EQ(v[3 + 2], 0.0f);
}

}  // namespace
}  // namespace kiln::nn
