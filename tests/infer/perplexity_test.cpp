// Sliding-window perplexity against log-softmax of full forwards computed here.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/perplexity.h"
#include "tiny_models.h"

namespace kiln::infer {
namespace {

using models::test::random_model;
using models::test::tiny;

// -log p(ids[j] | ids[from..j)) from one forward over ids[from, to).
std::vector<double> nlls(models::Decoder& m, const std::vector<int32_t>& ids, int64_t from,
                         int64_t to) {
  NoGradGuard ng;
  std::vector<int64_t> w(ids.begin() + from, ids.begin() + to);
  std::vector<float> lv =
      m.forward(Tensor::from_vector(w, {1, to - from})).logits.to_vector<float>();
  int64_t v = m.config().vocab_size;
  std::vector<double> out;
  for (int64_t j = from + 1; j < to; ++j) {
    const float* row = lv.data() + (j - 1 - from) * v;
    double z = 0;
    for (int64_t c = 0; c < v; ++c) z += std::exp(double(row[c]));
    out.push_back(std::log(z) - row[ids[size_t(j)]]);
  }
  return out;
}

TEST(Perplexity, OneWindowIsTheMeanNllOfAFullForward) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 21);
  std::vector<int32_t> ids;
  for (int i = 0; i < 30; ++i) ids.push_back((i * 7 + 2) % 61);
  std::vector<double> ref = nlls(*m, ids, 0, 30);
  double mean = 0;
  for (double x : ref) mean += x / double(ref.size());
  PerplexityResult r = perplexity(*m, ids, 64, 64);
  EXPECT_EQ(r.tokens, 29);
  EXPECT_EQ(r.windows, 1);
  EXPECT_NEAR(r.nll, mean, 1e-5);
  EXPECT_NEAR(r.ppl, std::exp(mean), 1e-4 * std::exp(mean));
}

TEST(Perplexity, StridedWindowsScoreEachTokenOnceWithTheirContext) {
  models::ModelConfig c = tiny("qwen3");
  auto m = random_model(c, 22);
  std::vector<int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back((i * 5 + 1) % 61);
  // ctx 8, stride 4: windows [0,8) [4,12) [8,16) [12,20); each scores the 4 tokens past the last.
  double total = 0;
  std::vector<double> first = nlls(*m, ids, 0, 8);
  for (double x : first) total += x;
  for (int64_t begin : {4, 8, 12}) {
    std::vector<double> w = nlls(*m, ids, begin, begin + 8);
    for (size_t j = w.size() - 4; j < w.size(); ++j) total += w[j];
  }
  PerplexityResult r = perplexity(*m, ids, 8, 4);
  EXPECT_EQ(r.tokens, 19);
  EXPECT_EQ(r.windows, 4);
  EXPECT_NEAR(r.nll, total / 19, 1e-5);
  EXPECT_THROW(perplexity(*m, ids, 8, 9), Error);  // stride past the window skips tokens
  EXPECT_THROW(perplexity(*m, std::vector<int32_t>{1, 99}, 8, 8), Error);
}

}  // namespace
}  // namespace kiln::infer
