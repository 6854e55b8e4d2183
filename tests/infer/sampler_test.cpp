// The sampler's masks and penalties on crafted logits, its seeding, and its draws against the
// distribution it claims.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/core/error.h"
#include "kiln/infer/sampler.h"

namespace kiln::infer {
namespace {

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> x;
  for (double q : p) x.push_back(float(std::log(q)));
  return x;
}

SamplingParams with(double temperature = 1.0) {
  SamplingParams p;
  p.temperature = temperature;
  return p;
}

std::vector<int> kept(const std::vector<double>& d) {
  std::vector<int> k;
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i] > 0) k.push_back(int(i));
  return k;
}

TEST(Sampler, VocabLimitKeepsIdsBelowIt) {
  std::vector<float> logits = {0.f, 1.f, 2.f, 9.f, 8.f};  // the best two are past the limit
  SamplingParams p = with(0.0);
  p.vocab_limit = 3;
  EXPECT_EQ(Sampler(p).next(logits).id, 2);
  p.vocab_limit = 0;
  EXPECT_EQ(Sampler(p).next(logits).id, 3);
  p = with(1.0);
  p.vocab_limit = 3;
  Sampler s(p);
  for (int i = 0; i < 200; ++i) EXPECT_LT(s.next(logits).id, 3);
}

TEST(Sampler, TopKKeepsTheKBestAndTiesWithTheKth) {
  std::vector<float> x = {1, 5, 3, 5, 2, 0};
  SamplingParams p = with();
  p.top_k = 2;
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{1, 3}));
  p.top_k = 3;
  std::vector<double> d = Sampler(p).distribution(x);
  EXPECT_EQ(kept(d), (std::vector<int>{1, 2, 3}));
  double z = 2 * std::exp(5.0) + std::exp(3.0);
  EXPECT_NEAR(d[2], std::exp(3.0) / z, 1e-6);
  p.top_k = 1;  // HF keeps every token equal to the k-th best
  EXPECT_EQ(kept(Sampler(p).distribution(std::vector<float>{4, 1, 4, 4})),
            (std::vector<int>{0, 2, 3}));
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  std::vector<float> x = log_probs({0.15, 0.5, 0.05, 0.3});
  SamplingParams p = with();
  p.top_p = 0.75;
  std::vector<double> d = Sampler(p).distribution(x);
  EXPECT_EQ(kept(d), (std::vector<int>{1, 3}));
  EXPECT_NEAR(d[1], 0.5 / 0.8, 1e-6);
  p.top_p = 0.85;
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{0, 1, 3}));
  p.top_p = 0.4;  // the best token alone already exceeds p
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{1}));
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) {
  std::vector<float> x = log_probs({0.15, 0.5, 0.05, 0.3});
  SamplingParams p = with();
  p.min_p = 0.35;  // floor 0.175
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{1, 3}));
  p.min_p = 0.2;  // floor 0.1
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{0, 1, 3}));
  p.min_p = 0.09;
  EXPECT_EQ(kept(Sampler(p).distribution(x)), (std::vector<int>{0, 1, 2, 3}));
}

TEST(Sampler, TemperatureScalesTheSoftmax) {
  std::vector<float> x = {0.5f, -1.0f, 2.0f};
  std::vector<double> d = Sampler(with(0.5)).distribution(x);
  double z = std::exp(1.0) + std::exp(-2.0) + std::exp(4.0);
  EXPECT_NEAR(d[0], std::exp(1.0) / z, 1e-6);
  EXPECT_NEAR(d[2], std::exp(4.0) / z, 1e-6);
  EXPECT_EQ(kept(Sampler(with(0)).distribution(x)), (std::vector<int>{2}));  // greedy
}

TEST(Sampler, RepetitionPenaltyIsHuggingFaces) {
  // RepetitionPenaltyLogitsProcessor: seen tokens' positive logits are divided by the penalty,
  // negative ones multiplied; each seen token once, however often it occurs.
  SamplingParams p = with();
  p.repetition_penalty = 2.0;
  Sampler s(p);
  std::vector<int32_t> prompt = {0, 1, 1, 0};
  s.reset(prompt);
  EXPECT_EQ(s.penalized(std::vector<float>{2.0f, -1.0f, 0.5f, 3.0f}),
            (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}));
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountGeneratedTokens) {
  SamplingParams p = with(0);
  p.frequency_penalty = 0.5;
  p.presence_penalty = 0.25;
  Sampler s(p);
  std::vector<int32_t> prompt = {1};  // the prompt does not count for these
  s.reset(prompt);
  std::vector<float> x = {0.0f, 1.0f, 0.0f, 9.0f};
  EXPECT_EQ(s.next(x).id, 3);
  EXPECT_EQ(s.next(x).id, 3);
  EXPECT_EQ(s.penalized(x), (std::vector<float>{0.0f, 1.0f, 0.0f, 9.0f - 2 * 0.5f - 0.25f}));
}

TEST(Sampler, SeedReproducesDraws) {
  std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.0f, -0.5f, 0.4f, 0.25f, 0.05f};
  auto draws = [&](uint64_t seed) {
    SamplingParams p = with();
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(s.next(x).id);
    return ids;
  };
  EXPECT_EQ(draws(7), draws(7));
  EXPECT_NE(draws(7), draws(8));
}

TEST(Sampler, DrawFrequenciesFollowTheDistribution) {
  // 40000 draws; each token's count is binomial, so |freq - p| stays within 5 standard errors
  // (sqrt(p (1 - p) / n)) except with probability ~1e-6 per token.
  std::vector<float> x = {1.0f, 0.2f, -0.3f, 0.8f, 0.0f, -2.0f};
  SamplingParams p = with(0.8);
  p.top_k = 5;
  p.seed = 42;
  Sampler s(p);
  std::vector<double> d = s.distribution(x);
  EXPECT_EQ(d[5], 0.0);
  const int n = 40000;
  std::vector<int> count(x.size(), 0);
  for (int i = 0; i < n; ++i) ++count[size_t(s.next(x).id)];
  EXPECT_EQ(count[5], 0);
  for (size_t i = 0; i < x.size(); ++i) {
    double se = std::sqrt(d[i] * (1 - d[i]) / n);
    EXPECT_NEAR(double(count[i]) / n, d[i], 5 * se + 1e-12) << "token " << i;
  }
}

TEST(Sampler, LogprobsAreTheModelsOwn) {
  std::vector<float> x = {0.5f, 2.0f, -1.0f, 1.0f};
  SamplingParams p = with(0);
  p.logprobs = 2;
  p.repetition_penalty = 3.0;  // changes the choice, not the reported log-probabilities
  Sampler s(p);
  std::vector<int32_t> prompt = {1};
  s.reset(prompt);
  Sample smp = s.next(x);
  double lse = std::log(std::exp(0.5) + std::exp(2.0) + std::exp(-1.0) + std::exp(1.0));
  EXPECT_EQ(smp.id, 3);  // 2.0 / 3 < 1.0
  EXPECT_NEAR(smp.logprob, 1.0 - lse, 1e-5);
  ASSERT_EQ(smp.top.size(), 2u);
  EXPECT_EQ(smp.top[0].id, 1);
  EXPECT_NEAR(smp.top[0].logprob, 2.0 - lse, 1e-5);
  EXPECT_EQ(smp.top[1].id, 3);
}

TEST(Sampler, ValidationNamesTheParameter) {
  auto error_of = [](SamplingParams p) {
    try {
      p.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SamplingParams p;
  p.top_p = 0;
  EXPECT_NE(error_of(p).find("top_p: found 0, expected in (0, 1]"), std::string::npos);
  p.top_p = 1.5;
  EXPECT_NE(error_of(p).find("top_p: found 1.5"), std::string::npos);
  p = {};
  p.temperature = -1;
  EXPECT_NE(error_of(p).find("temperature"), std::string::npos);
  p = {};
  p.top_k = -3;
  EXPECT_NE(error_of(p).find("top_k"), std::string::npos);
  p = {};
  p.min_p = 2;
  EXPECT_NE(error_of(p).find("min_p"), std::string::npos);
  p = {};
  p.repetition_penalty = 0;
  EXPECT_NE(error_of(p).find("repetition_penalty"), std::string::npos);
  EXPECT_EQ(error_of(SamplingParams{}), "");
}

}  // namespace
}  // namespace kiln::infer
