#pragma once
// Tiny configs of every family for fast tests, written as config.json objects so that they go
// through the same parser as real checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/models/config.h"
#include "kiln/models/decoder.h"

namespace kiln::models::test {

inline nlohmann::json tiny_json(const std::string& model_type) {
  nlohmann::json j = {
      {"model_type", model_type}, {"vocab_size", 61},       {"hidden_size", 32},
      {"intermediate_size", 48},  {"num_hidden_layers", 2}, {"num_attention_heads", 4},
      {"num_key_value_heads", 2}, {"head_dim", 8},          {"max_position_embeddings", 64},
      {"rms_norm_eps", 1e-6},     {"rope_theta", 10000.0},  {"tie_word_embeddings", false},
      {"initializer_range", 0.2}};
  if (model_type == "mistral") j["sliding_window"] = 3;
  if (model_type == "qwen3_moe") {
    j["num_experts"] = 4;
    j["num_experts_per_tok"] = 2;
    j["moe_intermediate_size"] = 16;
    j["norm_topk_prob"] = true;
  }
  return j;
}

inline ModelConfig tiny(const std::string& model_type) {
  return parse_hf_config(tiny_json(model_type), "tiny " + model_type);
}

inline ModelConfig tiny_with(const std::string& model_type, const nlohmann::json& patch) {
  nlohmann::json j = tiny_json(model_type);
  j.merge_patch(patch);
  return parse_hf_config(j, "tiny " + model_type);
}

inline std::unique_ptr<Decoder> random_model(const ModelConfig& c, uint64_t seed = 1,
                                             DType dt = DType::F32) {
  auto m = std::make_unique<Decoder>(c, dt);
  Generator g(seed);
  m->init_weights(g);
  return m;
}

inline Tensor ids_tensor(const std::vector<int64_t>& ids, int64_t b = 1) {
  return Tensor::from_vector(ids, {b, int64_t(ids.size()) / b});
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    m = std::max(m, double(std::abs(x[i] - y[i])));
  return m;
}

}  // namespace kiln::models::test
