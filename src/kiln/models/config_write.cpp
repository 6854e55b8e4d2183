// ModelConfig -> config.json that transformers loads without custom code. Variants the family's HF
// class cannot express are refused, naming the field.
#include <nlohmann/json.hpp>

#include "kiln/models/config.h"
#include "kiln/models/families.h"

namespace kiln::models {

using nlohmann::json;

namespace {

void expressible(bool ok, const ModelConfig& c, const std::string& field, const std::string& why) {
  KILN_REQUIRE(ok, "config.json for ", c.model_type, ": field ", field, " ", why,
               ", which transformers' ", c.architecture, " cannot express");
}

json rope_scaling_json(const nn::RopeScaling& s) {
  if (s.rope_type == "default") return nullptr;
  json r{{"rope_type", s.rope_type}, {"factor", s.factor}};
  if (s.original_max_position_embeddings > 0)
    r["original_max_position_embeddings"] = s.original_max_position_embeddings;
  if (s.rope_type == "yarn") {
    if (s.attention_factor > 0) r["attention_factor"] = s.attention_factor;
    r["beta_fast"] = s.beta_fast;
    r["beta_slow"] = s.beta_slow;
    if (s.mscale > 0) r["mscale"] = s.mscale;
    if (s.mscale_all_dim > 0) r["mscale_all_dim"] = s.mscale_all_dim;
    if (!s.truncate) r["truncate"] = false;
  }
  if (s.rope_type == "llama3") {
    r["low_freq_factor"] = s.low_freq_factor;
    r["high_freq_factor"] = s.high_freq_factor;
  }
  return r;
}

void write_windows(const ModelConfig& c, const Family& fam, json& j) {
  int64_t n = c.num_hidden_layers, first = n, count = 0;
  for (int64_t i = 0; i < n; ++i)
    if (c.is_sliding_layer(i)) {
      first = std::min(first, i);
      ++count;
    }
  switch (fam.sliding) {
    case SlidingRule::None:
      expressible(count == 0, c, "sliding_window", "sets sliding layers");
      return;
    case SlidingRule::AllLayers:
      expressible(count == 0 || count == n, c, "layer_types", "mixes sliding and full layers");
      j["sliding_window"] = count ? json(c.sliding_window) : json(nullptr);
      return;
    case SlidingRule::FromMaxWindowLayers:
      expressible(count == n - first, c, "layer_types",
                  "is not \"sliding from max_window_layers on\"");
      j["use_sliding_window"] = count > 0;
      j["sliding_window"] = count ? json(c.sliding_window) : json(nullptr);
      j["max_window_layers"] = count ? first : n;
      return;
  }
}

void check_variants(const ModelConfig& c, const Family& fam) {
  expressible(c.positions == Positions::Rope, c, "positions", "is not rope");
  expressible(c.norm_type == nn::NormKind::RMSNorm, c, "norm_type", "is not rmsnorm");
  expressible(!c.post_norm, c, "norm_position", "is post");
  expressible(c.ffn_kind == nn::FfnKind::Glu, c, "ffn_kind", "is not glu");
  expressible(c.qk_norm == fam.qk_norm, c, "qk_norm", "differs from the family");
  expressible(c.qkv_bias == fam.qkv_bias || c.attention_bias, c, "qkv_bias",
              "differs from the family");
  expressible(!c.attn_output_gate, c, "attn_output_gate", "is set");
  expressible(c.router_score == nn::RouterScore::Softmax, c, "router_score", "is not softmax");
  expressible(c.shared_expert_intermediate_size == 0, c, "shared_expert_intermediate_size",
              "is set");
  bool llama = fam.model_type == "llama";
  expressible(!c.mlp_bias || llama, c, "mlp_bias", "is set");
  expressible(!c.attention_bias || (fam.model_type != "mistral" && fam.model_type != "qwen2"), c,
              "attention_bias", "is set");
}

}  // namespace

json to_hf_config(const ModelConfig& c) {
  validate(c);
  const Family& fam = family_by_model_type(c.model_type);
  check_variants(c, fam);
  json j;
  j["architectures"] = json::array({fam.architecture});
  j["model_type"] = fam.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = c.hidden_act;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["initializer_range"] = c.initializer_range;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (fam.model_type != "mistral" && fam.model_type != "qwen2")
    j["attention_bias"] = c.attention_bias;
  if (fam.model_type == "llama") j["mlp_bias"] = c.mlp_bias;
  j["rope_theta"] = c.rope_theta;
  j["rope_scaling"] = rope_scaling_json(c.rope_scaling);
  if (c.partial_rotary_factor != 1.0) j["partial_rotary_factor"] = c.partial_rotary_factor;
  write_windows(c, fam, j);
  if (fam.moe) {
    j["num_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.num_experts_per_tok;
    j["moe_intermediate_size"] = c.moe_intermediate_size;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["decoder_sparse_step"] = c.decoder_sparse_step;
    j["mlp_only_layers"] = c.mlp_only_layers;
    j["router_aux_loss_coef"] = c.router_aux_loss_coef;
  }
  // Training-only knobs: transformers keeps them as plain attributes.
  if (c.capacity_factor > 0) j["capacity_factor"] = c.capacity_factor;
  if (c.router_z_loss_coef > 0) j["router_z_loss_coef"] = c.router_z_loss_coef;
  if (c.global_load_balance) j["global_load_balance"] = true;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  if (c.eos_token_ids.size() > 1) j["eos_token_id"] = c.eos_token_ids;
  j["torch_dtype"] = c.torch_dtype;
  j["use_cache"] = true;
  return j;
}

}  // namespace kiln::models
