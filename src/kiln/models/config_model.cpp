// What a ModelConfig implies for each layer, and the checks that make it buildable.
#include <algorithm>

#include "kiln/models/config.h"
#include "kiln/models/families.h"

namespace kiln::models {

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (num_experts <= 0) return false;
  if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) != mlp_only_layers.end())
    return false;
  return (layer + 1) % decoder_sparse_step == 0;
}

nn::RopeConfig ModelConfig::rope() const {
  nn::RopeConfig r;
  r.head_dim = head_dim;
  r.theta = rope_theta;
  r.partial_rotary_factor = partial_rotary_factor;
  r.max_position_embeddings = max_position_embeddings;
  r.scaling = rope_scaling;
  return r;
}

nn::BlockConfig ModelConfig::block(int64_t layer) const {
  nn::BlockConfig b;
  nn::Activation act = nn::parse_activation(hidden_act);
  b.attn.hidden = hidden_size;
  b.attn.heads = num_attention_heads;
  b.attn.kv_heads = num_key_value_heads;
  b.attn.head_dim = head_dim;
  b.attn.qkv_bias = attention_bias || qkv_bias;
  b.attn.o_bias = attention_bias;
  b.attn.qk_norm = qk_norm;
  b.attn.norm_eps = rms_norm_eps;
  b.attn.output_gate = attn_output_gate;
  b.attn.window = is_sliding_layer(layer) ? sliding_window : 0;
  b.norm = norm_type;
  b.norm_eps = rms_norm_eps;
  b.post_norm = post_norm;
  b.use_moe = is_moe_layer(layer);
  b.mlp = {hidden_size, intermediate_size, ffn_kind, act, mlp_bias};
  b.moe.hidden = hidden_size;
  b.moe.num_experts = num_experts;
  b.moe.top_k = num_experts_per_tok;
  b.moe.expert_intermediate = moe_intermediate_size;
  b.moe.act = act;
  b.moe.norm_topk_prob = norm_topk_prob;
  b.moe.score = router_score;
  b.moe.shared_intermediate = shared_expert_intermediate_size;
  b.moe.capacity_factor = capacity_factor;
  b.moe.global_balance = global_load_balance;
  return b;
}

namespace {

void positive(int64_t v, const char* field) {
  KILN_REQUIRE(v > 0, field, ": found ", v, ", expected > 0");
}

}  // namespace

void validate(const ModelConfig& c) {
  const Family& fam = family_by_model_type(c.model_type);
  positive(c.vocab_size, "vocab_size");
  positive(c.hidden_size, "hidden_size");
  positive(c.num_hidden_layers, "num_hidden_layers");
  positive(c.num_attention_heads, "num_attention_heads");
  positive(c.num_key_value_heads, "num_key_value_heads");
  positive(c.head_dim, "head_dim");
  positive(c.max_position_embeddings, "max_position_embeddings");
  KILN_REQUIRE(c.num_attention_heads % c.num_key_value_heads == 0, "num_key_value_heads: found ",
               c.num_key_value_heads, ", expected a divisor of num_attention_heads ",
               c.num_attention_heads);
  KILN_REQUIRE(c.rms_norm_eps > 0, "rms_norm_eps: found ", c.rms_norm_eps, ", expected > 0");
  KILN_REQUIRE(c.initializer_range > 0, "initializer_range: found ", c.initializer_range,
               ", expected > 0");
  nn::parse_activation(c.hidden_act);
  if (c.positions == Positions::Rope) nn::validate(c.rope());
  KILN_REQUIRE(c.sliding_window >= 0, "sliding_window: found ", c.sliding_window,
               ", expected >= 0");
  KILN_REQUIRE(int64_t(c.sliding_layers.size()) == c.num_hidden_layers, "layer_types: found ",
               c.sliding_layers.size(), " layers, expected ", c.num_hidden_layers);
  KILN_REQUIRE(c.num_experts >= 0, "num_experts: found ", c.num_experts, ", expected >= 0");
  KILN_REQUIRE(c.num_experts == 0 || fam.moe, "num_experts: found ", c.num_experts,
               ", expected 0 for model_type ", c.model_type, " (not a MoE family)");
  // decoder_sparse_step is checked before is_moe_layer divides by it.
  if (c.num_experts > 0) positive(c.decoder_sparse_step, "decoder_sparse_step");
  bool dense_layers = false;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) dense_layers |= !c.is_moe_layer(i);
  if (dense_layers) positive(c.intermediate_size, "intermediate_size");
  if (c.num_experts > 0) {
    KILN_REQUIRE(c.num_experts_per_tok >= 1 && c.num_experts_per_tok <= c.num_experts,
                 "num_experts_per_tok: found ", c.num_experts_per_tok, ", expected in [1, ",
                 c.num_experts, "]");
    positive(c.moe_intermediate_size, "moe_intermediate_size");
    for (int64_t l : c.mlp_only_layers)
      KILN_REQUIRE(l >= 0 && l < c.num_hidden_layers, "mlp_only_layers: found layer ", l,
                   ", expected in [0, ", c.num_hidden_layers, ")");
  }
  KILN_REQUIRE(c.shared_expert_intermediate_size >= 0, "shared_expert_intermediate_size: found ",
               c.shared_expert_intermediate_size, ", expected >= 0");
  KILN_REQUIRE(c.capacity_factor >= 0, "capacity_factor: found ", c.capacity_factor,
               ", expected >= 0");
  KILN_REQUIRE(c.router_z_loss_coef >= 0, "router_z_loss_coef: found ", c.router_z_loss_coef,
               ", expected >= 0");
}

}  // namespace kiln::models
