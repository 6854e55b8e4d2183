// The integer and half kernels behind packed-weight inference (qdot.h, matmul.h): every SIMD path
// against the scalar reference, the scalar reference against the dequantize-then-f32 product
// within the bound that 8-bit activations allow, and linear / embedding on both their paths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kiln/core/error.h"
#include "kiln/core/half.h"
#include "kiln/ops/matmul.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/matmul.h"
#include "kiln/quant/qdot.h"
#include "kiln/quant/quantize.h"

namespace kiln::quant {
namespace {

const DType kIntTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_K};

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.f) {
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::AVX2, Isa::AVX512, Isa::NEON})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

TEST(QuantIntDot, EveryPathMatchesTheScalarReference) {
  std::mt19937 rng(7);
  for (DType t : kIntTypes) {
    for (int64_t n : {256, 3072}) {
      auto w = randn(size_t(n), rng), x = randn(size_t(n), rng);
      std::vector<uint8_t> q(dtype_nbytes(t, n));
      quantize_row(t, w.data(), q.data(), n);
      std::vector<BlockQ8A> a(size_t(n / kActBlock));
      quantize_act(x.data(), a.data(), n);
      int64_t nb = n / kActBlock;
      float ref = int_dot(t, Isa::Scalar)(q.data(), a.data(), nb);
      // The same integer block sums; only the order of the f32 sums of scaled blocks differs.
      double mag = 0;
      std::vector<float> deq(static_cast<size_t>(n));
      dequantize_row(t, q.data(), deq.data(), n);
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(deq[size_t(i)]) * x[size_t(i)]);
      for (Isa isa : supported_isas()) {
        float got = int_dot(t, isa)(q.data(), a.data(), nb);
        EXPECT_NEAR(got, ref, 1e-6 * mag) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
      }
    }
  }
}

TEST(QuantIntGemm, TilesMatchTheScalarReferenceAndTheRowAlone) {
  // Tile edges on both sides: weight rows filling two 16-row panels and part of a third, split at
  // an odd row; activation rows past two tiles of 8; odd and even block counts.
  std::mt19937 rng(13);
  const int64_t n = 37, m = 19;
  for (DType t : {DType::Q8_0, DType::Q4_0}) {
    for (int64_t k : {32, 96, 256, 1056}) {
      int64_t nb = k / kActBlock;
      size_t row_bytes = dtype_nbytes(t, k);
      auto wv = randn(size_t(n * k), rng), xv = randn(size_t(m * k), rng);
      std::vector<uint8_t> w(row_bytes * size_t(n));
      for (int64_t r = 0; r < n; ++r)
        quantize_row(t, wv.data() + r * k, w.data() + size_t(r) * row_bytes, k);
      std::vector<BlockQ8A> a(size_t(m * nb));
      for (int64_t i = 0; i < m; ++i) quantize_act(xv.data() + i * k, a.data() + i * nb, k);
      for (Isa isa : supported_isas()) {
        std::vector<BlockQ8A> ai(a.size());
        for (int64_t i = 0; i < m; ++i) quantize_act(xv.data() + i * k, ai.data() + i * nb, k, isa);
        for (size_t b = 0; b < a.size(); ++b) {  // the same blocks bit for bit on every path
          ASSERT_EQ(std::memcmp(a[b].q, ai[b].q, 32), 0) << isa_name(isa) << " block " << b;
          ASSERT_EQ(a[b].d, ai[b].d) << isa_name(isa) << " block " << b;
          ASSERT_EQ(a[b].sum, ai[b].sum) << isa_name(isa) << " block " << b;
        }
        IntGemmFn gemm = int_gemm(t, isa);
        if (!gemm) continue;
        std::vector<float> y(size_t(m * n), NAN), one(size_t(n), NAN);
        gemm(w.data(), row_bytes, 0, 5, a.data(), m, nb, y.data(), n);
        gemm(w.data(), row_bytes, 5, n, a.data(), m, nb, y.data(), n);
        for (int64_t i = 0; i < m; ++i) {
          gemm(w.data(), row_bytes, 0, n, a.data() + i * nb, 1, nb, one.data(), n);
          for (int64_t r = 0; r < n; ++r) {
            const uint8_t* row = w.data() + size_t(r) * row_bytes;
            float ref = int_dot(t, Isa::Scalar)(row, a.data() + i * nb, nb);
            // The same integer block sums as the reference; only the f32 order differs.
            std::vector<float> deq(static_cast<size_t>(k));
            dequantize_row(t, row, deq.data(), k);
            double mag = 0;
            for (int64_t c = 0; c < k; ++c)
              mag += std::fabs(double(deq[size_t(c)]) * xv[size_t(i * k + c)]);
            float got = y[size_t(i * n + r)];
            EXPECT_NEAR(got, ref, 1e-6 * mag) << isa_name(isa) << " " << dtype_name(t) << " k=" << k
                                              << " x row " << i << " w row " << r;
            EXPECT_EQ(got, one[size_t(r)])
                << "a row's result must not depend on its tile: " << dtype_name(t) << " k=" << k
                << " row " << i;
          }
        }
      }
    }
  }
}

TEST(QuantIntDot, ReferenceIsWithinTheActivationRoundingBound) {
  std::mt19937 rng(8);
  for (DType t : kIntTypes) {
    const int64_t n = 1024;
    auto w = randn(size_t(n), rng), x = randn(size_t(n), rng, 3.f);
    std::vector<uint8_t> q(dtype_nbytes(t, n));
    quantize_row(t, w.data(), q.data(), n);
    std::vector<float> deq(static_cast<size_t>(n));
    dequantize_row(t, q.data(), deq.data(), n);
    std::vector<BlockQ8A> a(size_t(n / kActBlock));
    quantize_act(x.data(), a.data(), n);
    // Each activation is off by at most half its block's step d / 2, so the dot product is off by
    // at most sum |w_i| * d_block / 2 (plus f32 rounding, far smaller).
    double exact = 0, bound = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += double(deq[size_t(i)]) * x[size_t(i)];
      bound += std::fabs(deq[size_t(i)]) * a[size_t(i / kActBlock)].d / 2;
      mag += std::fabs(double(deq[size_t(i)]) * x[size_t(i)]);
    }
    float got = int_dot(t, Isa::Scalar)(q.data(), a.data(), n / kActBlock);
    EXPECT_NEAR(got, exact, bound + 1e-5 * mag) << dtype_name(t);
    // And the bound is tight enough to mean something: a few percent of the magnitudes at worst
    // (about max|x| / mean|x| / 254 of them), the actual error far less.
    EXPECT_LT(bound, 0.03 * mag);
    EXPECT_LT(std::fabs(got - exact), 0.005 * mag);
  }
}

TEST(QuantIntDot, ActivationBlocksRoundToNearest) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[size_t(i)] = float(i - 16) / 4.f;  // max |x| = 4
  BlockQ8A a;
  quantize_act(x.data(), &a, 32);
  EXPECT_FLOAT_EQ(a.d, 4.f / 127.f);
  int32_t sum = 0;
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(a.q[i], int(std::nearbyint(x[size_t(i)] / a.d)));
    sum += a.q[i];
  }
  EXPECT_EQ(a.q[0], -127);
  EXPECT_EQ(a.sum, sum);
}

TEST(QuantHalfDot, EveryPathMatchesTheDoubleDot) {
  std::mt19937 rng(9);
  for (DType t : {DType::F16, DType::BF16}) {
    for (int64_t n : {37, 576, 1024}) {  // 37: the scalar tail after the vector loop
      auto w = randn(size_t(n), rng), x = randn(size_t(n), rng);
      Tensor wt = Tensor::from_vector(w, {n}).to(t);
      std::vector<float> wr = wt.to(DType::F32).to_vector<float>();
      double want = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        want += double(wr[size_t(i)]) * x[size_t(i)];
        mag += std::fabs(double(wr[size_t(i)]) * x[size_t(i)]);
      }
      for (Isa isa : supported_isas()) {
        float got = half_dot(t, isa)(wt.raw_data(), x.data(), n);
        EXPECT_NEAR(got, want, 1e-5 * mag) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
      }
    }
  }
}

// linear on each path and instruction set against x @ dequant(W)^T in f32 (BLAS-free, double).
TEST(QuantLinear, BothPathsMatchTheDequantizedProduct) {
  std::mt19937 rng(10);
  const int64_t n = 48, k = 512;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::F16, DType::BF16}) {
    Tensor wf = Tensor::from_vector(randn(size_t(n * k), rng), {n, k});
    Tensor w = is_quantized(t) ? quantize(wf, t) : wf.to(t);
    Tensor wd = is_quantized(t) ? dequantize(w) : w.to(DType::F32);
    Tensor bias = Tensor::from_vector(randn(size_t(n), rng), {n});
    std::vector<float> wv = wd.to_vector<float>(), bv = bias.to_vector<float>();
    for (int64_t m : {1, 3, 20}) {
      std::vector<float> xv = randn(size_t(m * k), rng);
      Tensor x = Tensor::from_vector(xv, {m, k});
      for (Isa isa : supported_isas()) {
        for (int64_t gemm_rows : {int64_t(1), int64_t(1) << 30}) {
          std::vector<float> y = linear(x, w, bias, isa, gemm_rows).to_vector<float>();
          // The SGEMM path and the half kernels see exact weights and activations (f32 rounding
          // only); the integer paths (the tiled one at every row count) add the 8-bit activation
          // rounding, bounded as above.
          bool int_act = is_quantized(t) && (gemm_rows > m || int_gemm(t, isa) != nullptr);
          for (int64_t i = 0; i < m; ++i) {
            float amax = 0;
            for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::fabs(xv[size_t(i * k + c)]));
            for (int64_t r = 0; r < n; ++r) {
              double want = bv[size_t(r)], mag = 0, wabs = 0;
              for (int64_t c = 0; c < k; ++c) {
                double p = double(xv[size_t(i * k + c)]) * wv[size_t(r * k + c)];
                want += p;
                mag += std::fabs(p);
                wabs += std::fabs(wv[size_t(r * k + c)]);
              }
              double tol = 1e-5 * mag + (int_act ? wabs * amax / 127 / 2 : 0.0);
              ASSERT_NEAR(y[size_t(i * n + r)], want, tol)
                  << dtype_name(t) << " " << isa_name(isa) << " m=" << m << " row " << r
                  << (int_act ? " integer" : " f32");
            }
          }
        }
      }
    }
  }
}

TEST(QuantLinear, BatchInvariantGuardMakesEachRowIndependentOfItsNeighbours) {
  // The server decodes many sequences in one product and promises each the result it gets
  // alone: under the guard a row of a 32-row call equals the same row multiplied by itself.
  std::mt19937 rng(12);
  const int64_t n = 40, k = 256, m = 32;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::F16, DType::BF16}) {
    Tensor wf = Tensor::from_vector(randn(size_t(n * k), rng), {n, k});
    Tensor w = is_quantized(t) ? quantize(wf, t) : wf.to(t);
    std::vector<float> xv = randn(size_t(m * k), rng);
    Tensor x = Tensor::from_vector(xv, {m, k});
    ops::BatchInvariantGuard guard;
    std::vector<float> all = linear(x, w).to_vector<float>();
    for (int64_t i = 0; i < m; ++i) {
      std::vector<float> xi(xv.begin() + i * k, xv.begin() + (i + 1) * k);
      std::vector<float> one = linear(Tensor::from_vector(xi, {1, k}), w).to_vector<float>();
      for (int64_t r = 0; r < n; ++r)
        ASSERT_EQ(all[size_t(i * n + r)], one[size_t(r)]) << dtype_name(t) << " row " << i;
    }
  }
}

TEST(QuantLinear, KeepsLeadingDimsAndRefusesBadInput) {
  std::mt19937 rng(11);
  Tensor w = quantize(Tensor::from_vector(randn(64 * 256, rng), {64, 256}), DType::Q4_0);
  Tensor x = Tensor::from_vector(randn(2 * 3 * 256, rng), {2, 3, 256});
  EXPECT_EQ(linear(x, w).sizes(), (Shape{2, 3, 64}));
  EXPECT_THROW(linear(Tensor::zeros({3, 128}), w), Error);                         // wrong K
  EXPECT_THROW(linear(Tensor::zeros({3, 256}, DType::F64), w), Error);             // not f32
  EXPECT_THROW(linear(Tensor::zeros({3, 256}), Tensor::zeros({64, 256})), Error);  // f32 weight
  Tensor xg = Tensor::zeros({3, 256});
  xg.set_requires_grad(true);
  try {
    linear(xg, w);
    FAIL() << "a gradient through a quantized weight must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no gradient"), std::string::npos) << e.what();
  }
}

TEST(QuantEmbedding, GathersExactlyTheDequantizedRows) {
  std::mt19937 rng(12);
  const int64_t v = 40, d = 256;
  Tensor wf = Tensor::from_vector(randn(size_t(v * d), rng), {v, d});
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::F16, DType::BF16}) {
    Tensor w = is_quantized(t) ? quantize(wf, t) : wf.to(t);
    std::vector<float> wd = (is_quantized(t) ? dequantize(w) : w.to(DType::F32)).to_vector<float>();
    std::vector<int64_t> ids = {3, 0, 39, 3};
    Tensor y = embedding(w, Tensor::from_vector(ids, {2, 2}));
    ASSERT_EQ(y.sizes(), (Shape{2, 2, d}));
    std::vector<float> yv = y.to_vector<float>();
    for (size_t i = 0; i < ids.size(); ++i)
      for (int64_t c = 0; c < d; ++c)
        ASSERT_EQ(yv[i * size_t(d) + size_t(c)], wd[size_t(ids[i] * d + c)]) << dtype_name(t);
    EXPECT_THROW(embedding(w, Tensor::from_vector(std::vector<int64_t>{40}, {1})), Error);
    EXPECT_THROW(embedding(w, Tensor::from_vector(std::vector<int64_t>{-1}, {1})), Error);
  }
}

}  // namespace
}  // namespace kiln::quant
