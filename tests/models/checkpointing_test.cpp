// Gradient checkpointing: the same loss and gradients as the plain backward, for whole blocks,
// attention only and every n-th block, pre- and post-norm, dense and MoE; and less activation
// memory.
#include <gtest/gtest.h>

#include "kiln/autograd/checkpoint.h"
#include "kiln/autograd/functions.h"
#include "kiln/core/storage.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

using test::ids_tensor;
using test::random_model;
using test::tiny_with;

struct Result {
  double loss;
  std::vector<std::vector<float>> grads;
  size_t peak_bytes;
};

Result run(const ModelConfig& c, nn::Checkpoint mode, int64_t every, int64_t t) {
  auto m = random_model(c, 3);
  m->train();
  m->set_checkpointing(mode, every);
  std::vector<int64_t> ids(size_t(2 * t)), tg(size_t(2 * t));
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = int64_t((i * 7 + 3) % size_t(c.vocab_size));
    tg[i] = int64_t((i * 5 + 1) % size_t(c.vocab_size));
  }
  release_cached_memory();
  reset_peak_memory(DeviceType::CPU);
  size_t base = memory_stats(DeviceType::CPU).current;
  ForwardOutput out = m->forward(ids_tensor(ids, 2));
  Tensor loss =
      cross_entropy(reshape(out.logits, {-1, c.vocab_size}), Tensor::from_vector(tg, {2 * t}));
  if (out.moe_loss.defined()) loss = loss + out.moe_loss;
  backward(loss);
  Result r{loss.item(), {}, memory_stats(DeviceType::CPU).peak - base};
  for (const Tensor& p : m->parameters()) r.grads.push_back(p.grad().to_vector<float>());
  return r;
}

void expect_same(const Result& a, const Result& b, const std::string& what) {
  EXPECT_EQ(a.loss, b.loss) << what;
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i)
    for (size_t j = 0; j < a.grads[i].size(); ++j)
      ASSERT_NEAR(a.grads[i][j], b.grads[i][j], 1e-6 + 1e-5 * std::abs(a.grads[i][j]))
          << what << " param " << i << " element " << j;
}

TEST(Checkpointing, SameLossAndGradientsAsPlainBackward) {
  for (const auto& [type, patch] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"llama", {{"num_hidden_layers", 3}}},
           {"llama", {{"num_hidden_layers", 2}, {"norm_position", "post"}}},
           {"qwen3", {{"num_hidden_layers", 2}}},
           {"qwen3_moe", {{"num_hidden_layers", 2}}}}) {
    ModelConfig c = tiny_with(type, patch);
    std::string what = type + " " + patch.dump();
    Result plain = run(c, nn::Checkpoint::None, 1, 6);
    expect_same(plain, run(c, nn::Checkpoint::Whole, 1, 6), what + " whole");
    expect_same(plain, run(c, nn::Checkpoint::Attention, 1, 6), what + " attention");
    expect_same(plain, run(c, nn::Checkpoint::Whole, 2, 6), what + " every 2nd");
  }
}

TEST(Checkpointing, KeepsLessActivationMemory) {
  ModelConfig c = tiny_with(
      "llama",
      {{"num_hidden_layers", 4}, {"intermediate_size", 256}, {"max_position_embeddings", 256}});
  size_t plain = run(c, nn::Checkpoint::None, 1, 128).peak_bytes;
  size_t attn = run(c, nn::Checkpoint::Attention, 1, 128).peak_bytes;
  size_t whole = run(c, nn::Checkpoint::Whole, 1, 128).peak_bytes;
  EXPECT_LT(attn, plain);
  EXPECT_LT(whole, attn);
  std::printf("peak bytes: plain %zu, attention %zu, whole %zu\n", plain, attn, whole);
}

TEST(Checkpointing, MultipleOutputsAndInputsWithoutGrad) {
  Tensor w = Tensor::from_vector<float>({1.5f, -2.f, 0.5f}, {3}).set_requires_grad(true);
  Tensor x = Tensor::from_vector<float>({0.3f, 0.7f, -1.f}, {3}).set_requires_grad(true);
  Tensor k = Tensor::from_vector<float>({2.f, 2.f, 2.f}, {3});  // no grad
  auto f = [w](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] * w * in[1], exp(in[0] * w)};
  };
  std::vector<Tensor> y = checkpoint("test", f, {x, k});
  backward(sum(y[0]) + sum(y[1]) * 0.5);
  std::vector<float> gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>();
  std::vector<float> xv = x.to_vector<float>(), wv = w.to_vector<float>();
  for (size_t i = 0; i < 3; ++i) {
    float e = std::exp(xv[i] * wv[i]);
    EXPECT_NEAR(gx[i], wv[i] * 2 + 0.5f * e * wv[i], 1e-5);
    EXPECT_NEAR(gw[i], xv[i] * 2 + 0.5f * e * xv[i], 1e-5);
  }
  EXPECT_FALSE(k.grad().defined());
}

}  // namespace
}  // namespace kiln::models
