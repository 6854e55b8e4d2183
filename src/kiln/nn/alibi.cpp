#include "kiln/nn/alibi.h"

#include <cmath>

namespace kiln::nn {

namespace {

std::vector<float> power_of_two_slopes(int64_t n) {
  std::vector<float> s(static_cast<size_t>(n));
  double start = std::pow(2.0, -8.0 / double(n));
  for (int64_t i = 0; i < n; ++i) s[size_t(i)] = float(std::pow(start, double(i + 1)));
  return s;
}

}  // namespace

std::vector<float> alibi_slopes(int64_t n_heads) {
  KILN_REQUIRE(n_heads > 0, "alibi: found ", n_heads, " heads, expected > 0");
  int64_t p = 1;
  while (p * 2 <= n_heads) p *= 2;
  std::vector<float> s = power_of_two_slopes(p);
  std::vector<float> extra = power_of_two_slopes(2 * p);
  for (int64_t i = 0; int64_t(s.size()) < n_heads; i += 2) s.push_back(extra[size_t(i)]);
  return s;
}

Tensor alibi_bias(const std::vector<float>& slopes, int64_t t, int64_t s, int64_t q_offset,
                  DType dt) {
  int64_t h = int64_t(slopes.size());
  std::vector<float> b(size_t(h * t * s));
  for (int64_t hh = 0; hh < h; ++hh)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < s; ++j)
        b[size_t((hh * t + i) * s + j)] = slopes[size_t(hh)] * float(j - (q_offset + i));
  return Tensor::from_vector(b, {1, h, t, s}).to(dt);
}

}  // namespace kiln::nn
