// The decoder: shapes, attention variants (GQA/MQA equal MHA with repeated kv heads), causality,
// sliding windows, the KV cache, init, and gradients reaching every parameter.
#include <gtest/gtest.h>

#include <map>

#include "kiln/autograd/functions.h"
#include "kiln/models/families.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

using test::ids_tensor;
using test::max_abs_diff;
using test::random_model;
using test::tiny;
using test::tiny_with;

const std::vector<int64_t> kIds{3, 17, 42, 5, 60, 0, 11, 29, 7, 33};

std::map<std::string, Tensor*> params_by_name(const nn::Module& m) {
  std::map<std::string, Tensor*> out;
  for (const nn::NamedParam& p : m.named_parameters()) out[p.name] = p.tensor;
  return out;
}

TEST(Decoder, ForwardShapesEveryFamily) {
  for (const Family& f : families()) {
    auto m = random_model(tiny(f.model_type));
    NoGradGuard ng;
    ForwardOutput out = m->forward(ids_tensor(kIds, 2));
    EXPECT_EQ(out.logits.sizes(), (Shape{2, 5, 61})) << f.model_type;
    EXPECT_EQ(out.aux_loss.defined(), f.moe) << f.model_type;
    for (float v : out.logits.to_vector<float>()) ASSERT_TRUE(std::isfinite(v));
  }
}

// A GQA model equals the MHA model whose kv projections repeat each kv head for its group.
void check_kv_sharing(const std::string& type, int64_t kv_heads) {
  ModelConfig gc = tiny_with(type, {{"num_key_value_heads", kv_heads}});
  ModelConfig mc = tiny_with(type, {{"num_key_value_heads", 4}});
  auto g = random_model(gc, 7);
  Decoder mha(mc);
  auto src = params_by_name(*g);
  int64_t hd = gc.head_dim, group = 4 / kv_heads;
  for (const nn::NamedParam& p : mha.named_parameters()) {
    const Tensor& s = *src.at(p.name);
    bool kv =
        p.name.find("k_proj") != std::string::npos || p.name.find("v_proj") != std::string::npos;
    if (!kv) {
      p.tensor->copy_(s);
      continue;
    }
    for (int64_t h = 0; h < 4; ++h)
      p.tensor->narrow(0, h * hd, hd).copy_(s.narrow(0, (h / group) * hd, hd));
  }
  NoGradGuard ng;
  Tensor ids = ids_tensor(kIds, 2);
  EXPECT_LE(max_abs_diff(g->forward(ids).logits, mha.forward(ids).logits), 1e-5)
      << type << " kv_heads " << kv_heads;
}

TEST(Decoder, GqaAndMqaEqualMhaWithRepeatedKvHeads) {
  check_kv_sharing("qwen3", 2);  // GQA with qk_norm
  check_kv_sharing("qwen2", 2);  // GQA with qkv bias
  check_kv_sharing("llama", 1);  // MQA
}

TEST(Decoder, CausalAndSlidingWindow) {
  NoGradGuard ng;
  auto m = random_model(tiny("llama"));
  std::vector<int64_t> other = kIds;
  other.back() = 1;
  Tensor a = m->forward(ids_tensor(kIds)).logits, b = m->forward(ids_tensor(other)).logits;
  EXPECT_EQ(max_abs_diff(a.narrow(1, 0, 9), b.narrow(1, 0, 9)), 0.0);
  EXPECT_GT(max_abs_diff(a.narrow(1, 9, 1), b.narrow(1, 9, 1)), 1e-4);

  // One layer with window 3: position 3 sees keys 1..3 only, position 2 sees key 0.
  auto w = random_model(tiny_with("mistral", {{"num_hidden_layers", 1}}));
  std::vector<int64_t> first = kIds;
  first[0] = 2;
  Tensor x = w->forward(ids_tensor(kIds)).logits, y = w->forward(ids_tensor(first)).logits;
  EXPECT_EQ(max_abs_diff(x.narrow(1, 3, 7), y.narrow(1, 3, 7)), 0.0);
  EXPECT_GT(max_abs_diff(x.narrow(1, 2, 1), y.narrow(1, 2, 1)), 1e-4);
}

TEST(Decoder, ExplicitPositionsMatchDefault) {
  NoGradGuard ng;
  auto m = random_model(tiny("qwen3"));
  Tensor ids = ids_tensor(kIds, 2);
  Tensor pos = Tensor::from_vector<int64_t>({0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, {2, 5});
  EXPECT_EQ(max_abs_diff(m->forward(ids).logits, m->forward(ids, pos).logits), 0.0);
  // RoPE is relative: shifting every position changes nothing but rounding; moving one does.
  Tensor shifted = Tensor::from_vector<int64_t>({5, 6, 7, 8, 9}, {5});
  EXPECT_LE(max_abs_diff(m->forward(ids).logits, m->forward(ids, shifted).logits), 1e-5);
  Tensor gap = Tensor::from_vector<int64_t>({0, 1, 2, 3, 9}, {5});
  EXPECT_GT(max_abs_diff(m->forward(ids).logits, m->forward(ids, gap).logits), 1e-4);
}

// Decoding token by token through a KV cache gives the logits of one full forward.
void check_cache(const ModelConfig& c) {
  NoGradGuard ng;
  auto m = random_model(c, 3);
  Tensor full = m->forward(ids_tensor(kIds)).logits;
  nn::DenseKvCache cache(c.num_hidden_layers);
  std::vector<Tensor> steps{
      m->forward(ids_tensor({kIds.begin(), kIds.begin() + 4}), {}, &cache).logits};
  for (size_t i = 4; i < kIds.size(); ++i)
    steps.push_back(m->forward(ids_tensor({kIds[i]}), {}, &cache).logits);
  EXPECT_LE(max_abs_diff(full, concat(steps, 1)), 2e-5) << c.model_type;
}

TEST(Decoder, KvCacheMatchesFullForward) {
  check_cache(tiny("llama"));
  check_cache(tiny("mistral"));  // sliding window 3
  check_cache(tiny("qwen3_moe"));
  check_cache(tiny_with("llama", {{"positions", "alibi"}}));
  check_cache(tiny_with("llama", {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}));
}

TEST(Decoder, InitIsSeeded) {
  auto a = random_model(tiny("qwen3"), 5), b = random_model(tiny("qwen3"), 5),
       c = random_model(tiny("qwen3"), 6);
  auto pa = params_by_name(*a), pb = params_by_name(*b), pc = params_by_name(*c);
  const char* w = "model.layers.1.mlp.up_proj.weight";
  EXPECT_EQ(max_abs_diff(*pa[w], *pb[w]), 0.0);
  EXPECT_GT(max_abs_diff(*pa[w], *pc[w]), 1e-3);
  EXPECT_EQ(pa["model.layers.0.self_attn.q_norm.weight"]->to_vector<float>()[0], 1.f);
  // std = initializer_range (0.2) over a 48 x 32 matrix: sample std within 10%.
  std::vector<float> v = pa[w]->to_vector<float>();
  double s2 = 0;
  for (float x : v) s2 += double(x) * x;
  EXPECT_NEAR(std::sqrt(s2 / double(v.size())), 0.2, 0.02);
}

TEST(Decoder, TiedHeadIsTheEmbedding) {
  auto m = random_model(tiny_with("llama", {{"tie_word_embeddings", true}}));
  EXPECT_EQ(m->lm_head, nullptr);
  EXPECT_TRUE(m->lm_head_weight().same(m->model->embed_tokens->weight));
}

TEST(Decoder, Bf16ForwardTracksF32) {
  ModelConfig c = tiny("qwen3");
  auto f = random_model(c, 9);
  Decoder h(c, DType::BF16);
  auto src = params_by_name(*f);
  for (const nn::NamedParam& p : h.named_parameters()) p.tensor->copy_(*src.at(p.name));
  NoGradGuard ng;
  Tensor ids = ids_tensor(kIds);
  Tensor lf = f->forward(ids).logits, lh = h.forward(ids).logits;
  EXPECT_EQ(lh.dtype(), DType::BF16);
  EXPECT_LE(max_abs_diff(lf, lh.to(DType::F32)), 0.1);
}

// Backward of the LM loss (plus MoE losses) reaches every parameter with a nonzero gradient.
void check_grads(const ModelConfig& c) {
  auto m = random_model(c, 11);
  std::vector<int64_t> ids(64), targets(64);
  for (int64_t i = 0; i < 64; ++i) {
    ids[size_t(i)] = (i * 37 + 5) % c.vocab_size;
    targets[size_t(i)] = (i * 11 + 3) % c.vocab_size;
  }
  ForwardOutput out = m->forward(ids_tensor(ids, 4));
  for (const auto& u : out.utilization)
    for (int64_t n : u.counts) ASSERT_GT(n, 0) << "an expert got no tokens; pick other ids";
  Tensor loss =
      cross_entropy(reshape(out.logits, {64, c.vocab_size}), Tensor::from_vector(targets, {64}));
  if (out.moe_loss.defined()) loss = loss + out.moe_loss;
  backward(loss);
  for (const nn::NamedParam& p : m->named_parameters()) {
    Tensor g = p.tensor->grad();
    ASSERT_TRUE(g.defined()) << c.model_type << ": no gradient for " << p.name;
    double mx = 0;
    for (float v : g.to_vector<float>()) mx = std::max(mx, double(std::abs(v)));
    EXPECT_GT(mx, 0.0) << c.model_type << ": zero gradient for " << p.name;
  }
}

TEST(Decoder, GradientReachesEveryParameter) {
  for (const Family& f : families()) check_grads(tiny(f.model_type));
  check_grads(tiny_with("llama", {{"attention_bias", true},
                                  {"mlp_bias", true},
                                  {"attn_output_gate", true},
                                  {"tie_word_embeddings", true}}));
  check_grads(tiny_with("llama", {{"positions", "alibi"},
                                  {"norm_type", "layernorm"},
                                  {"norm_position", "post"},
                                  {"ffn_kind", "mlp"},
                                  {"hidden_act", "gelu"}}));
  check_grads(tiny_with("qwen3_moe", {{"shared_expert_intermediate_size", 24},
                                      {"router_score", "sigmoid"},
                                      {"router_z_loss_coef", 0.01},
                                      {"hidden_act", "gelu_pytorch_tanh"}}));
}

}  // namespace
}  // namespace kiln::models

namespace kiln::models {
namespace {

TEST(Decoder, LastOnlyLogitsAreTheLastRowOfTheFullOnes) {
  for (const Family& f : families()) {
    auto m = test::random_model(test::tiny(f.model_type));
    NoGradGuard ng;
    Tensor ids = test::ids_tensor({3, 17, 42, 5, 60, 0, 11, 29, 7, 33}, 2);
    Tensor full = m->forward(ids).logits;
    Tensor last = m->forward(ids, Tensor(), nullptr, true).logits;
    ASSERT_EQ(last.sizes(), (Shape{2, 1, 61})) << f.model_type;
    // Not bit-equal: one row per batch goes through BLAS gemv, many rows through gemm.
    EXPECT_LE(test::max_abs_diff(last, full.narrow(1, 4, 1).contiguous()), 1e-5) << f.model_type;
  }
}

}  // namespace
}  // namespace kiln::models
