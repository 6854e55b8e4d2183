// Parameter counts of the presets against the published figures, and the cost model.
#include <gtest/gtest.h>

#include "kiln/models/families.h"
#include "kiln/models/info.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

TEST(Params, PublishedCountsExact) {
  // Dense models: every parameter of the checkpoint, the tied embedding once.
  EXPECT_EQ(count_params(load_preset("smollm2-135m")).total, 134'515'008);
  EXPECT_EQ(count_params(load_preset("qwen3-0.6b")).total, 596'049'920);
  EXPECT_EQ(count_params(load_preset("llama-3.2-1b")).total, 1'235'814'400);
  // Qwen3-1.7B is tied; the 2.03B figure counts the lm_head its checkpoint stores anyway.
  ParamCounts q17 = count_params(load_preset("qwen3-1.7b"));
  EXPECT_EQ(q17.total, 1'720'574'976);
  EXPECT_EQ(q17.untied(), 2'031'739'904);
}

TEST(Params, MoeTotalAndActive) {
  ParamCounts a3b = count_params(load_preset("qwen3-30b-a3b"));
  EXPECT_EQ(a3b.total, 30'532'122'624);  // published "30.5B"
  EXPECT_EQ(a3b.active, 3'353'032'704);  // published "3.3B activated"
  EXPECT_NEAR(double(a3b.total), 30.5e9, 0.005 * 30.5e9);
  EXPECT_NEAR(double(a3b.active), 3.3e9, 0.02 * 3.3e9);
  ParamCounts a22b = count_params(load_preset("qwen3-235b-a22b"));
  EXPECT_EQ(a22b.total, 235'093'634'560);  // published "235B"
  EXPECT_EQ(a22b.active, 22'190'763'520);  // published "22B activated"
  EXPECT_NEAR(double(a22b.total), 235e9, 0.005 * 235e9);
  EXPECT_NEAR(double(a22b.active), 22e9, 0.01 * 22e9);
  ParamCounts dbg = count_params(load_preset("debug-moe"));
  EXPECT_EQ(dbg.total, 53'214'592);
  EXPECT_EQ(count_params(load_preset("debug")).total, 24'877'440);
}

// The formula must agree with the modules the decoder builds, for every variant.
TEST(Params, FormulaMatchesBuiltModules) {
  std::vector<ModelConfig> configs;
  for (const Family& f : families()) configs.push_back(test::tiny(f.model_type));
  configs.push_back(load_preset("debug"));
  configs.push_back(load_preset("debug-moe"));
  configs.push_back(test::tiny_with("llama", {{"attention_bias", true}, {"mlp_bias", true}}));
  configs.push_back(test::tiny_with("llama", {{"norm_type", "layernorm"},
                                              {"ffn_kind", "mlp"},
                                              {"hidden_act", "gelu"},
                                              {"attn_output_gate", true},
                                              {"tie_word_embeddings", true}}));
  configs.push_back(test::tiny_with(
      "qwen3_moe", {{"shared_expert_intermediate_size", 24}, {"mlp_only_layers", {1}}}));
  for (const ModelConfig& c : configs) {
    Decoder m(c);
    EXPECT_EQ(count_params(c).total, m.num_parameters()) << c.model_type;
    std::vector<std::string> names;
    for (const nn::NamedParam& p : m.named_parameters()) names.push_back(p.name);
    EXPECT_EQ(names, hf_tensor_names(c)) << c.model_type;
  }
}

TEST(Params, FlopsPerToken) {
  ModelConfig c = load_preset("qwen3-0.6b");
  ParamCounts p = count_params(c);
  // The LM head multiplies even though tied; norms are not matmuls.
  int64_t norms = 28 * (2 * 1024 + 2 * 128) + 1024;
  EXPECT_EQ(p.active_matmul, p.total - norms);
  EXPECT_DOUBLE_EQ(flops_per_token(c, 0), 2.0 * double(p.active_matmul));
  EXPECT_DOUBLE_EQ(flops_per_token(c, 4096) - flops_per_token(c, 0), 4.0 * 28 * 16 * 128 * 4096);
  ModelConfig moe = load_preset("qwen3-30b-a3b");
  EXPECT_NEAR(flops_per_token(moe, 0), 2.0 * double(count_params(moe).active_matmul), 1);
  // Sliding layers see at most their window.
  ModelConfig sw = test::tiny("mistral");  // window 3 on both layers
  EXPECT_DOUBLE_EQ(flops_per_token(sw, 100) - flops_per_token(sw, 0), 4.0 * 2 * 4 * 8 * 3);
}

TEST(Params, KvCacheBytes) {
  ModelConfig l = load_preset("llama-3.2-1b");
  EXPECT_EQ(kv_bytes_per_token_per_layer(l, DType::BF16), 2 * 8 * 64 * 2);
  EXPECT_EQ(kv_bytes_per_token(l, DType::BF16), 32768);
  EXPECT_EQ(kv_bytes(l, 8192, DType::F32), int64_t(8192) * 65536);
  ModelConfig q = load_preset("qwen3-0.6b");
  EXPECT_EQ(kv_bytes_per_token(q, DType::BF16), 28 * 2 * 8 * 128 * 2);
  ModelConfig sw = test::tiny("mistral");
  EXPECT_EQ(kv_bytes(sw, 100, DType::F32), 2 * 3 * kv_bytes_per_token_per_layer(sw, DType::F32));
}

TEST(Params, ServeAndTrainMemory) {
  ModelConfig c = load_preset("qwen3-0.6b");
  ServeMemory s = serve_memory(c, 4096);
  EXPECT_EQ(s.weights_bf16, 2 * 596'049'920LL);
  EXPECT_EQ(s.weights_int8, (596'049'920LL * 34 + 31) / 32);
  EXPECT_EQ(s.weights_int4, (596'049'920LL * 144 + 255) / 256);
  EXPECT_EQ(s.kv, 4096 * kv_bytes_per_token(c, DType::BF16));
  TrainMemory t = train_memory(c, 8192);
  EXPECT_EQ(t.weights + t.grads + t.master + t.moments, 16 * 596'049'920LL);
  EXPECT_GT(t.activations, 0);
  EXPECT_EQ(train_memory(c, 16384).activations, 2 * t.activations);
}

}  // namespace
}  // namespace kiln::models
