#include "kiln/models/gguf_rope_freqs.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "kiln/core/error.h"

namespace kiln::models {
namespace {

std::vector<float> default_inv_freq(nn::RopeConfig c) {
  c.scaling = nn::RopeScaling{};
  return nn::rope_frequencies(c).inv_freq;
}

}  // namespace

std::vector<float> llama3_freq_factors(const nn::RopeConfig& c) {
  std::vector<float> base = default_inv_freq(c), scaled = nn::rope_frequencies(c).inv_freq;
  std::vector<float> f(base.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = base[i] / scaled[i];
  return f;
}

nn::RopeScaling llama3_from_freq_factors(const std::vector<float>& factors,
                                         const nn::RopeConfig& base, const std::string& where) {
  std::vector<float> inv = default_inv_freq(base);
  KILN_REQUIRE(factors.size() == inv.size(), where, ": rope_freqs.weight: found ", factors.size(),
               " values, expected rotary_dim / 2 = ", inv.size());
  for (float f : factors)
    KILN_REQUIRE(std::isfinite(f) && f >= 1.f, where, ": rope_freqs.weight: found ", f,
                 ", expected finite factors >= 1 (Llama-3 scaling)");
  double factor = *std::max_element(factors.begin(), factors.end());
  // Between the kept (1) and fully scaled (factor) frequencies, the Llama-3 blend is linear in
  // 1 / wavelength: s = (1/f - 1/factor) / (1 - 1/factor) = a / wavelength + b.
  std::vector<double> x, y;
  for (size_t i = 0; i < factors.size(); ++i) {
    double f = factors[i];
    if (f > 1 + 1e-5 && f < factor * (1 - 1e-5)) {
      x.push_back(double(inv[i]) / (2 * std::numbers::pi));
      y.push_back((1 / f - 1 / factor) / (1 - 1 / factor));
    }
  }
  KILN_REQUIRE(x.size() >= 2, where, ": rope_freqs.weight: found ", x.size(),
               " frequencies between the kept and the scaled ones, expected at least 2 to recover "
               "Llama-3 scaling parameters");
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= double(x.size());
  my /= double(x.size());
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  double a = sxy / sxx, b = my - a * mx;
  KILN_REQUIRE(a > 0 && b < 0, where, ": rope_freqs.weight: factors are not of Llama-3 form");
  nn::RopeScaling s;
  s.rope_type = "llama3";
  s.factor = factor;
  s.low_freq_factor = 1;
  s.high_freq_factor = 1 - 1 / b;  // low / (high - low) = -b with low = 1
  s.original_max_position_embeddings = int64_t(std::llround(-a / b));
  // Published values are round (Llama 3.x: 8192, 1, 4); snap what the fit lands next to.
  if (std::abs(s.high_freq_factor - std::round(s.high_freq_factor)) < 1e-3)
    s.high_freq_factor = std::round(s.high_freq_factor);
  nn::RopeConfig check = base;
  check.scaling = s;
  std::vector<float> back = llama3_freq_factors(check);
  for (size_t i = 0; i < back.size(); ++i)
    KILN_REQUIRE(std::abs(back[i] - factors[i]) <= 1e-4f * factors[i], where,
                 ": rope_freqs.weight: factor ", i, " is ", factors[i],
                 " but the Llama-3 fit gives ", back[i], "; expected factors of Llama-3 form");
  return s;
}

}  // namespace kiln::models
