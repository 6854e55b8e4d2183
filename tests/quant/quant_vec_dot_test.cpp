// vec_dot on every path this CPU runs (scalar, AVX2, AVX-512) against the dot product of the
// dequantized row, computed in double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kiln/core/error.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/vec_dot.h"

namespace kiln::quant {
namespace {

TEST(QuantVecDot, EveryPathMatchesTheDequantizedDot) {
  std::mt19937 rng(29);
  std::normal_distribution<float> dist(0.f, 1.f);
  int paths = 0;
  for (Isa isa : {Isa::Scalar, Isa::AVX2, Isa::AVX512}) {
    if (!isa_supported(isa)) continue;
    ++paths;
    for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
      for (int64_t n : {256, 4096}) {
        const size_t len = static_cast<size_t>(n);
        std::vector<float> w(len), x(len), deq(len);
        for (float& v : w) v = dist(rng);
        for (float& v : x) v = dist(rng);
        std::vector<uint8_t> q(dtype_nbytes(t, n));
        quantize_row(t, w.data(), q.data(), n);
        dequantize_row(t, q.data(), deq.data(), n);
        double want = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
          want += double(deq[i]) * double(x[i]);
          mag += std::fabs(double(deq[i]) * double(x[i]));
        }
        float got = vec_dot(t, q.data(), x.data(), n, isa);
        // f32 accumulation of n products: well under 1e-5 of the sum of their magnitudes.
        EXPECT_NEAR(got, want, 1e-5 * mag) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
      }
    }
  }
  EXPECT_GE(paths, 1);
  std::printf("vec_dot paths checked: %d (best: %s)\n", paths, isa_name(best_isa()));
}

TEST(QuantVecDot, RefusesPartialBlocksAndPlainTypes) {
  std::vector<uint8_t> q(144);
  std::vector<float> x(256);
  EXPECT_THROW(vec_dot(DType::Q4_K, q.data(), x.data(), 128), Error);
  EXPECT_THROW(vec_dot(DType::F32, q.data(), x.data(), 32), Error);
}

}  // namespace
}  // namespace kiln::quant
