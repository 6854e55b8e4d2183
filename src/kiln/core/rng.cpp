#include "kiln/core/rng.h"

#include <cmath>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"

namespace kiln {

namespace {

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = uint64_t(a) * b;
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

// Philox-4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
void philox(uint64_t counter, uint64_t key, uint32_t out[4]) {
  uint32_t c[4] = {uint32_t(counter), uint32_t(counter >> 32), 0, 0};
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c[0], hi0, lo0);
    mulhilo(0xCD9E8D57u, c[2], hi1, lo1);
    uint32_t n[4] = {hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0};
    c[0] = n[0], c[1] = n[1], c[2] = n[2], c[3] = n[3];
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int i = 0; i < 4; ++i) out[i] = c[i];
}

double erfinv(double y) {
  // Initial guess (Giles' single-precision approximation), then two Newton steps on erf.
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      x = c + x * w;
  } else {
    w = std::sqrt(w) - 3.0;
    x = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      x = c + x * w;
  }
  x *= y;
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (2.0 / std::sqrt(M_PI) * std::exp(-x * x));
  return x;
}

// Fills a contiguous host tensor with f(i), then copies to t (any device, dtype, strides).
template <class F>
void fill_with(const Tensor& t, F f) {
  Tensor host = Tensor::empty(t.sizes(), DType::F64);
  double* p = host.data<double>();
  parallel_for(host.numel(), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = f(i);
  });
  t.copy_(host.to(t.device()));
}

}  // namespace

uint32_t Generator::bits(uint64_t c) const {
  uint32_t out[4];
  philox(c >> 2, seed_, out);
  return out[c & 3];
}

double Generator::next_uniform() {
  uint64_t c = take(2);
  uint64_t hi = bits(c), lo = bits(c + 1);
  return double((hi << 21) ^ (lo >> 11)) * (1.0 / 9007199254740992.0);  // 53 bits
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}

void manual_seed(uint64_t seed) {
  default_generator().set_state(seed, 0);
}

void uniform_(const Tensor& t, double lo, double hi, Generator& g) {
  KILN_REQUIRE(is_float(t.dtype()), "uniform_: needs a floating tensor");
  uint64_t base = g.take(uint64_t(t.numel()));
  fill_with(t, [&](int64_t i) { return lo + (hi - lo) * g.uniform01(base + i); });
}

void normal_(const Tensor& t, double mean, double std, Generator& g) {
  KILN_REQUIRE(is_float(t.dtype()), "normal_: needs a floating tensor");
  uint64_t base = g.take(2 * uint64_t(t.numel()));
  fill_with(t, [&](int64_t i) {
    double u1 = (double(g.bits(base + 2 * i)) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
    double u2 = double(g.bits(base + 2 * i + 1)) * (1.0 / 4294967296.0);
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  });
}

void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& g) {
  KILN_REQUIRE(is_float(t.dtype()), "trunc_normal_: needs a floating tensor");
  KILN_REQUIRE(a < b, "trunc_normal_: lower bound ", a, " must be below upper bound ", b);
  auto cdf = [](double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); };
  double ca = cdf(a), cb = cdf(b);
  uint64_t base = g.take(uint64_t(t.numel()));
  fill_with(t, [&](int64_t i) {
    double u = ca + (cb - ca) * (double(g.bits(base + i)) + 0.5) * (1.0 / 4294967296.0);
    double x = std::sqrt(2.0) * erfinv(2.0 * u - 1.0);
    return mean + std * std::min(std::max(x, a), b);
  });
}

}  // namespace kiln
