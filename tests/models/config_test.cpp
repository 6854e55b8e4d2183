// config.json (transformers 4.x and 5.x layouts) and YAML presets -> ModelConfig, and back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiln/models/config.h"
#include "kiln/models/families.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

using nlohmann::json;

// Llama-3.2-1B's config.json as transformers 4.45 wrote it.
const char* kLlama32 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

// A Qwen3 config in the transformers 5.x layout: rope_parameters, layer_types, dtype.
const char* kQwen3v5 = R"({
  "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": false,
  "head_dim": 16, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 1024,
  "rms_norm_eps": 1e-6, "vocab_size": 256, "tie_word_embeddings": true, "dtype": "bfloat16",
  "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0,
                      "original_max_position_embeddings": 256},
  "sliding_window": 8, "use_sliding_window": true, "max_window_layers": 4,
  "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention"],
  "transformers_version": "5.0.0"})";

std::string error_of(const json& j) {
  try {
    parse_hf_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesTransformers4Llama) {
  ModelConfig c = parse_hf_config(json::parse(kLlama32));
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.rope_type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(*c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{128001});
  EXPECT_EQ(c.torch_dtype, "bfloat16");
}

TEST(Config, ParsesTransformers5Qwen3) {
  ModelConfig c = parse_hf_config(json::parse(kQwen3v5));
  EXPECT_TRUE(c.qk_norm);  // implied by the family
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_scaling.rope_type, "yarn");
  EXPECT_EQ(c.rope_scaling.factor, 4.0);
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.block(1).attn.window, 8);
  EXPECT_EQ(c.block(2).attn.window, 0);
}

TEST(Config, Qwen2SlidingFromMaxWindowLayers) {
  json j = test::tiny_json("qwen2");
  j["num_hidden_layers"] = 4;
  j["sliding_window"] = 16;
  j["max_window_layers"] = 2;
  j["use_sliding_window"] = false;
  ModelConfig off = parse_hf_config(j);
  EXPECT_EQ(off.sliding_window, 0);
  EXPECT_TRUE(off.qkv_bias);  // implied by qwen2
  j["use_sliding_window"] = true;
  ModelConfig on = parse_hf_config(j);
  EXPECT_EQ(on.sliding_layers, (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(on.sliding_window, 16);
}

TEST(Config, MistralWindowDefaultsAndNull) {
  json j = test::tiny_json("mistral");
  j.erase("sliding_window");
  ModelConfig absent = parse_hf_config(j);
  EXPECT_EQ(absent.sliding_window, 4096);  // MistralConfig's default
  EXPECT_EQ(absent.sliding_layers, (std::vector<bool>{true, true}));
  j["sliding_window"] = nullptr;
  EXPECT_EQ(parse_hf_config(j).sliding_window, 0);
}

TEST(Config, SlidingWindowPatternEveryNthGlobal) {
  ModelConfig c = test::tiny_with(
      "llama", {{"num_hidden_layers", 6}, {"sliding_window", 4}, {"sliding_window_pattern", 3}});
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{true, true, false, true, true, false}));
}

TEST(Config, MoeFieldsAndFiveXAlias) {
  json j = test::tiny_json("qwen3_moe");
  j.erase("num_experts");
  j["num_local_experts"] = 6;
  j["mlp_only_layers"] = {0};
  ModelConfig c = parse_hf_config(j);
  EXPECT_EQ(c.num_experts, 6);
  EXPECT_EQ(c.num_experts_per_tok, 2);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = json::array();
  ModelConfig step = parse_hf_config(j);
  EXPECT_FALSE(step.is_moe_layer(0));
  EXPECT_TRUE(step.is_moe_layer(1));
}

TEST(Config, KilnOnlyFields) {
  ModelConfig c = test::tiny_with("llama", {{"positions", "alibi"},
                                            {"norm_type", "layernorm"},
                                            {"norm_position", "post"},
                                            {"ffn_kind", "mlp"},
                                            {"hidden_act", "gelu"},
                                            {"attn_output_gate", true}});
  EXPECT_EQ(c.positions, Positions::Alibi);
  EXPECT_EQ(c.norm_type, nn::NormKind::LayerNorm);
  EXPECT_TRUE(c.post_norm);
  EXPECT_EQ(c.ffn_kind, nn::FfnKind::Mlp);
  EXPECT_TRUE(c.attn_output_gate);
  ModelConfig m = test::tiny_with("qwen3_moe", {{"router_score", "sigmoid"},
                                                {"capacity_factor", 1.25},
                                                {"router_z_loss_coef", 0.001},
                                                {"global_load_balance", true}});
  EXPECT_EQ(m.router_score, nn::RouterScore::Sigmoid);
  EXPECT_EQ(m.capacity_factor, 1.25);
  EXPECT_TRUE(m.block(0).moe.global_balance);
}

TEST(Config, ErrorsNameFieldFoundAndExpected) {
  auto has = [](const std::string& msg, const std::vector<std::string>& parts) {
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos) return ::testing::AssertionFailure() << msg;
    return ::testing::AssertionSuccess();
  };
  json j = test::tiny_json("llama");
  json bad = j;
  bad["hidden_sise"] = 3;
  EXPECT_TRUE(has(error_of(bad), {"unknown field", "hidden_sise"}));
  bad = j;
  bad["hidden_size"] = "wide";
  EXPECT_TRUE(has(error_of(bad), {"hidden_size", "\"wide\"", "expected an integer"}));
  bad["hidden_size"] = 1e97;  // found by the config fuzzer: was an out-of-range float->int cast
  EXPECT_TRUE(has(error_of(bad), {"hidden_size", "expected an integer"}));
  bad["hidden_size"] = 18446744073709551615ull;
  EXPECT_TRUE(has(error_of(bad), {"hidden_size", "expected an integer"}));
  bad = j;
  bad["tie_word_embeddings"] = 1;
  EXPECT_TRUE(has(error_of(bad), {"tie_word_embeddings", "expected true or false"}));
  bad = j;
  bad.erase("model_type");
  bad["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_TRUE(has(error_of(bad), {"architectures", "GPT2LMHeadModel", "Qwen3ForCausalLM"}));
  bad = j;
  bad["model_type"] = "gpt2";
  EXPECT_TRUE(has(error_of(bad), {"model_type", "gpt2", "qwen3_moe"}));
  bad = j;
  bad["architectures"] = {"Qwen3ForCausalLM"};
  EXPECT_TRUE(has(error_of(bad), {"architectures", "LlamaForCausalLM"}));
  bad = j;
  bad.erase("vocab_size");
  EXPECT_TRUE(has(error_of(bad), {"vocab_size", "missing"}));
  bad = j;
  bad["num_key_value_heads"] = 3;
  EXPECT_TRUE(has(error_of(bad), {"num_key_value_heads", "3", "divisor"}));
  bad = j;
  bad["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 2.0}};
  EXPECT_TRUE(has(error_of(bad), {"rope_type", "longrope", "yarn"}));
  bad = j;
  bad["rope_scaling"] = {{"rope_type", "linear"}, {"factr", 2.0}};
  EXPECT_TRUE(has(error_of(bad), {"rope_scaling", "factr"}));
  bad = j;
  bad["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_TRUE(has(error_of(bad), {"original_max_position_embeddings", "llama3"}));
  bad = j;
  bad["layer_types"] = {"full_attention"};
  EXPECT_TRUE(has(error_of(bad), {"layer_types", "1 entries", "2"}));
  bad = j;
  bad["layer_types"] = {"full_attention", "chunked_attention"};
  EXPECT_TRUE(has(error_of(bad), {"layer_types", "chunked_attention"}));
  bad = j;
  bad["num_experts"] = 4;
  EXPECT_TRUE(has(error_of(bad), {"num_experts", "llama"}));
  bad = test::tiny_json("qwen3_moe");
  bad["num_experts_per_tok"] = 5;
  EXPECT_TRUE(has(error_of(bad), {"num_experts_per_tok", "5", "[1, 4]"}));
  bad = test::tiny_json("qwen3_moe");
  bad["decoder_sparse_step"] = 0;  // found by the config fuzzer: was a division by zero
  EXPECT_TRUE(has(error_of(bad), {"decoder_sparse_step", "expected > 0"}));
  bad = j;
  bad["positions"] = "learned";
  EXPECT_TRUE(has(error_of(bad), {"positions", "learned", "alibi"}));
  bad = j;
  bad["hidden_act"] = "mish";
  EXPECT_TRUE(has(error_of(bad), {"hidden_act", "mish"}));
  bad = j;
  bad["quantization_config"] = {{"quant_method", "gptq"}};
  EXPECT_TRUE(has(error_of(bad), {"unknown field", "quantization_config"}));
}

TEST(Config, HfRoundTripOfEveryFamily) {
  for (const Family& f : families()) {
    ModelConfig c = test::tiny(f.model_type);
    json j = to_hf_config(c);
    EXPECT_EQ(j["architectures"][0], f.architecture);
    ModelConfig back = parse_hf_config(j);
    EXPECT_EQ(to_hf_config(back), j) << f.model_type;
    EXPECT_EQ(back.sliding_layers, c.sliding_layers);
    EXPECT_EQ(back.qk_norm, c.qk_norm);
  }
  ModelConfig yarn = parse_hf_config(json::parse(kQwen3v5));
  yarn.sliding_layers.assign(4, false);
  yarn.sliding_layers[2] = yarn.sliding_layers[3] = true;
  ModelConfig back = parse_hf_config(to_hf_config(yarn));
  EXPECT_EQ(back.rope_scaling.rope_type, "yarn");
  EXPECT_EQ(back.rope_scaling.original_max_position_embeddings, 256);
  EXPECT_EQ(back.sliding_layers, yarn.sliding_layers);
}

TEST(Config, HfExportRefusesWhatTheFamilyCannotExpress) {
  auto refused = [](const ModelConfig& c, const std::string& field) {
    try {
      to_hf_config(c);
    } catch (const Error& e) {
      return std::string(e.what()).find(field) != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(refused(test::tiny_with("llama", {{"positions", "alibi"}}), "positions"));
  EXPECT_TRUE(refused(test::tiny_with("qwen3", {{"qk_norm", false}}), "qk_norm"));
  EXPECT_TRUE(refused(test::tiny_with("llama", {{"attn_output_gate", true}}), "attn_output_gate"));
  // Interleaved sliding layers: transformers 4.x Qwen3 only slides from max_window_layers on.
  EXPECT_TRUE(refused(parse_hf_config(json::parse(kQwen3v5)), "layer_types"));
}

TEST(Config, Presets) {
  std::vector<std::string> names = preset_names();
  for (const char* want : {"debug", "debug-moe", "smollm2-135m", "qwen3-0.6b", "qwen3-1.7b",
                           "llama-3.2-1b", "qwen3-30b-a3b", "qwen3-235b-a22b"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  for (const std::string& n : names) EXPECT_NO_THROW(load_preset(n)) << n;
  ModelConfig q = load_preset("qwen3-30b-a3b");
  EXPECT_EQ(q.num_experts, 128);
  EXPECT_TRUE(q.norm_topk_prob);
  EXPECT_TRUE(q.qk_norm);
  ModelConfig l = load_preset("llama-3.2-1b");
  EXPECT_EQ(l.rope_scaling.rope_type, "llama3");
  try {
    load_preset("qwen9");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("debug-moe"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::models
