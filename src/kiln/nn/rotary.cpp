#include "kiln/nn/rotary.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kiln::nn {

namespace {

int64_t original_max(const RopeConfig& c) {
  return c.scaling.original_max_position_embeddings > 0 ? c.scaling.original_max_position_embeddings
                                                        : c.max_position_embeddings;
}

// 1 / base^(2i/R) with torch's f32 rounding of the exponent, the power and the reciprocal.
std::vector<float> base_inv_freq(double base, int64_t dim) {
  std::vector<float> f(size_t(dim / 2));
  for (size_t i = 0; i < f.size(); ++i) {
    float e = float(2 * int64_t(i)) / float(dim);
    f[i] = 1.f / std::pow(float(base), e);
  }
  return f;
}

double yarn_mscale(double scale, double m) {
  return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0;
}

RopeFrequencies yarn(const RopeConfig& c, int64_t dim) {
  const RopeScaling& s = c.scaling;
  RopeFrequencies r;
  double att = s.attention_factor;
  if (att <= 0)
    att = s.mscale > 0 && s.mscale_all_dim > 0
              ? yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim)
              : yarn_mscale(s.factor, 1.0);
  r.attention_scaling = float(att);
  // The dimension whose wavelength makes `rotations` turns over the original context.
  auto correction_dim = [&](double rotations) {
    return double(dim) * std::log(double(original_max(c)) / (rotations * 2 * std::numbers::pi)) /
           (2 * std::log(c.theta));
  };
  double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim - 1));
  if (low == high) high += 0.001;
  std::vector<float> extra = base_inv_freq(c.theta, dim);
  r.inv_freq.resize(extra.size());
  for (size_t i = 0; i < extra.size(); ++i) {
    float pos_freq = std::pow(float(c.theta), float(2 * int64_t(i)) / float(dim));
    float inter = 1.f / (float(s.factor) * pos_freq);
    float ramp = std::clamp((float(i) - float(low)) / (float(high) - float(low)), 0.f, 1.f);
    float keep = 1.f - ramp;  // share of the extrapolated (unscaled) frequency
    r.inv_freq[i] = inter * (1.f - keep) + extra[i] * keep;
  }
  return r;
}

std::vector<float> llama3(const RopeConfig& c, std::vector<float> f) {
  const RopeScaling& s = c.scaling;
  float factor = float(s.factor), lo = float(s.low_freq_factor), hi = float(s.high_freq_factor);
  float old_ctx = float(s.original_max_position_embeddings);
  float low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
  for (float& v : f) {
    // torch evaluates scalar / tensor as reciprocal(tensor) * scalar.
    float wavelen = (1.f / v) * float(2 * std::numbers::pi);
    if (wavelen > low_wavelen) {
      v = v / factor;
    } else if (!(wavelen < high_wavelen)) {
      float smooth = ((1.f / wavelen) * old_ctx - lo) / (hi - lo);
      v = (1.f - smooth) * v / factor + smooth * v;
    }
  }
  return f;
}

}  // namespace

void validate(const RopeConfig& c) {
  const RopeScaling& s = c.scaling;
  const std::string& t = s.rope_type;
  KILN_REQUIRE(t == "default" || t == "linear" || t == "dynamic" || t == "yarn" || t == "llama3",
               "rope_scaling.rope_type: found \"", t,
               "\", expected default, linear, dynamic, yarn or llama3");
  KILN_REQUIRE(c.theta > 1, "rope_theta: found ", c.theta, ", expected > 1");
  int64_t r = c.rotary_dim();
  KILN_REQUIRE(r >= 2 && r % 2 == 0 && r <= c.head_dim, "partial_rotary_factor: rotary dims ", r,
               " (head_dim ", c.head_dim, " x ", c.partial_rotary_factor,
               "), expected an even number in [2, head_dim]");
  if (t == "default") return;
  KILN_REQUIRE(s.factor >= 1, "rope_scaling.factor: found ", s.factor, ", expected >= 1");
  if (t == "llama3") {
    KILN_REQUIRE(s.original_max_position_embeddings > 0,
                 "rope_scaling.original_max_position_embeddings: missing, required by llama3");
    KILN_REQUIRE(s.high_freq_factor > s.low_freq_factor, "rope_scaling.high_freq_factor: found ",
                 s.high_freq_factor, ", expected > low_freq_factor ", s.low_freq_factor);
  }
  if (t == "dynamic") KILN_REQUIRE(r > 2, "dynamic rope needs more than 2 rotary dims");
}

RopeFrequencies rope_frequencies(const RopeConfig& c, int64_t seq_len) {
  int64_t dim = c.rotary_dim();
  const RopeScaling& s = c.scaling;
  RopeFrequencies r;
  if (s.rope_type == "yarn") return yarn(c, dim);
  if (s.rope_type == "dynamic") {
    double max_pos = double(c.max_position_embeddings);
    double len = std::max(double(seq_len), max_pos);
    double base = c.theta * std::pow(s.factor * len / max_pos - (s.factor - 1),
                                     double(dim) / double(dim - 2));
    r.inv_freq = base_inv_freq(base, dim);
    return r;
  }
  r.inv_freq = base_inv_freq(c.theta, dim);
  if (s.rope_type == "linear")
    for (float& v : r.inv_freq) v /= float(s.factor);
  if (s.rope_type == "llama3") r.inv_freq = llama3(c, std::move(r.inv_freq));
  return r;
}

RotaryEmbedding::RotaryEmbedding(RopeConfig c) : c_(std::move(c)) {
  validate(c_);
  fixed_ = rope_frequencies(c_);
}

std::pair<Tensor, Tensor> RotaryEmbedding::cos_sin(const Tensor& positions, DType dt) const {
  KILN_REQUIRE(positions.dim() == 1 || positions.dim() == 2, "rotary positions: found shape ",
               shape_str(positions.sizes()), ", expected [T] or [B, T]");
  Tensor p = positions.dim() == 1 ? positions.unsqueeze(0) : positions;
  std::vector<int64_t> pos = p.to_vector<int64_t>();
  int64_t b = p.size(0), t = p.size(1);
  RopeFrequencies dyn;
  const RopeFrequencies* f = &fixed_;
  if (c_.scaling.rope_type == "dynamic") {
    int64_t max_pos = pos.empty() ? 0 : *std::max_element(pos.begin(), pos.end());
    dyn = rope_frequencies(c_, max_pos + 1);
    f = &dyn;
  }
  int64_t h = int64_t(f->inv_freq.size());
  std::vector<float> cs(size_t(b * t * h)), sn(cs.size());
  for (size_t i = 0; i < pos.size(); ++i) {
    for (int64_t j = 0; j < h; ++j) {
      // torch forms the angle as an f32 product and scales the f32 cos/sin.
      float angle = f->inv_freq[size_t(j)] * float(pos[i]);
      size_t o = i * size_t(h) + size_t(j);
      cs[o] = float(std::cos(double(angle))) * f->attention_scaling;
      sn[o] = float(std::sin(double(angle))) * f->attention_scaling;
    }
  }
  Device dev = positions.device();
  return {Tensor::from_vector(cs, {b, t, h}, dev).to(dt),
          Tensor::from_vector(sn, {b, t, h}, dev).to(dt)};
}

}  // namespace kiln::nn
