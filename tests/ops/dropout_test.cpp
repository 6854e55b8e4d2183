// dropout with p > 0: the kept fraction and scale, exact reuse of the mask in backward, and
// independence from the thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/autograd/functions.h"
#include "kiln/core/thread_pool.h"

namespace kiln {
namespace {

TEST(Dropout, KeptFractionAndScale) {
  const int64_t n = 1 << 20;
  for (double p : {0.1, 0.5, 0.9}) {
    Generator g(42);
    Tensor x = Tensor::full({n}, 1.5);
    std::vector<float> y = dropout(x, p, true, g).to_vector<float>();
    int64_t kept = 0;
    const float scaled = float(1.5 / (1.0 - p));
    for (float v : y) {
      if (v == 0.f) continue;
      ++kept;
      ASSERT_NEAR(v, scaled, 1e-6 * scaled);
    }
    // Binomial(n, 1-p): six standard deviations is at most 0.003 of n.
    double frac = double(kept) / double(n), sd = std::sqrt(p * (1 - p) / double(n));
    EXPECT_NEAR(frac, 1.0 - p, 6 * sd) << "p = " << p;
  }
}

TEST(Dropout, MeanIsPreserved) {
  Generator g(3);
  Tensor x = Tensor::ones({512, 1024}, DType::F64);
  double m = mean(dropout(x, 0.3, true, g)).item();
  // E[y] = 1; sd of the mean = sqrt(p / (1-p) / n) ~ 9e-4.
  EXPECT_NEAR(m, 1.0, 6e-3);
}

TEST(Dropout, BackwardReusesTheMask) {
  Generator g(11);
  Tensor x = Tensor::full({37, 129}, 2.0).set_requires_grad(true);
  Tensor y = dropout(x, 0.4, true, g);
  Tensor dy = Tensor::full({37, 129}, 3.0);
  backward(y, dy);
  std::vector<float> yv = y.to_vector<float>(), gv = x.grad().to_vector<float>();
  const float scale = float(1.0 / 0.6);
  int64_t zeros = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    if (yv[i] == 0.f) {
      ++zeros;
      EXPECT_EQ(gv[i], 0.f) << "element " << i;
    } else {
      EXPECT_FLOAT_EQ(gv[i], 3.0f * scale) << "element " << i;
    }
  }
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, int64_t(yv.size()));
}

TEST(Dropout, DeterministicAcrossThreadsAndAdvancing) {
  Tensor x = Tensor::ones({300, 301}, DType::BF16);
  int threads = num_threads();
  set_num_threads(1);
  Generator g1(5);
  std::vector<float> a = dropout(x, 0.5, true, g1).to_vector<float>();
  set_num_threads(4);
  Generator g2(5);
  std::vector<float> b = dropout(x, 0.5, true, g2).to_vector<float>();
  std::vector<float> c = dropout(x, 0.5, true, g2).to_vector<float>();
  set_num_threads(threads);
  EXPECT_EQ(a, b);
  EXPECT_NE(b, c);  // the generator advanced, so the second mask differs
  EXPECT_EQ(g2.offset(), uint64_t(2 * x.numel()));
}

TEST(Dropout, EdgeProbabilities) {
  Generator g(1);
  Tensor x = Tensor::ones({1000});
  EXPECT_EQ(sum(dropout(x, 1.0, true, g)).item(), 0.0);
  EXPECT_TRUE(dropout(x, 0.7, false, g).same(x));
  EXPECT_EQ(g.offset(), 1000u);  // identity calls draw nothing
}

}  // namespace
}  // namespace kiln
