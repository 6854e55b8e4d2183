#pragma once
// ModelConfig: one decoder's shape and variants, with the field names of Hugging Face's config.json
// where HF has one, so a config.json (transformers 4.x or 5.x) parses straight into it.
//
// HF fields read: vocab_size, hidden_size, intermediate_size, num_hidden_layers,
// num_attention_heads, num_key_value_heads, head_dim, hidden_act, max_position_embeddings,
// initializer_range, rms_norm_eps, tie_word_embeddings, attention_bias, mlp_bias, rope_theta,
// partial_rotary_factor, rope_scaling (4.x) / rope_parameters (5.x), sliding_window,
// use_sliding_window, max_window_layers, layer_types (5.x), sliding_window_pattern (Gemma),
// num_experts / num_local_experts, num_experts_per_tok, moe_intermediate_size,
// shared_expert_intermediate_size, norm_topk_prob, decoder_sparse_step, mlp_only_layers,
// router_aux_loss_coef, bos/eos/pad_token_id, torch_dtype / dtype. Other keys that transformers
// writes and that do not change the model (use_cache, transformers_version, ...) are accepted
// and ignored; any other key is an error.
//
// kiln-only fields, for variants HF has no name for:
//   positions            rope | alibi | none
//   norm_type            rmsnorm | layernorm
//   norm_position        pre | post
//   ffn_kind             glu | mlp   (with hidden_act: glu+silu = SwiGLU, glu+gelu = GeGLU,
//                                     mlp+gelu = GELU MLP)
//   qk_norm, qkv_bias    implied by the family (qwen3: qk_norm; qwen2: qkv_bias), overridable
//   attn_output_gate     sigmoid gate on the attention output (Qwen3-Next)
//   router_score         softmax | sigmoid
//   capacity_factor      MoE expert capacity in training (0: dropless)
//   router_z_loss_coef   weight of the router z-loss
//   global_load_balance  aux loss with expert fractions over the whole global batch
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kiln/nn/block.h"
#include "kiln/nn/rotary.h"

namespace kiln::models {

enum class Positions : uint8_t { Rope, Alibi, None };

struct ModelConfig {
  std::string model_type;    // llama | mistral | qwen2 | qwen3 | qwen3_moe
  std::string architecture;  // LlamaForCausalLM, ...
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 2048;
  double initializer_range = 0.02;
  double rms_norm_eps = 1e-6;  // the eps of every norm (layernorm too)
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q, k, v and o biases
  bool mlp_bias = false;

  // positions
  Positions positions = Positions::Rope;
  double rope_theta = 10000;
  double partial_rotary_factor = 1.0;
  nn::RopeScaling rope_scaling;

  // attention windows: one entry per layer, true where the layer uses sliding_window
  int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;

  // MoE (num_experts == 0: dense)
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;
  bool norm_topk_prob = false;
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;
  double router_aux_loss_coef = 0.001;

  // kiln-only variants
  nn::NormKind norm_type = nn::NormKind::RMSNorm;
  bool post_norm = false;
  nn::FfnKind ffn_kind = nn::FfnKind::Glu;
  bool qk_norm = false;
  bool qkv_bias = false;
  bool attn_output_gate = false;
  nn::RouterScore router_score = nn::RouterScore::Softmax;
  double capacity_factor = 0;
  double router_z_loss_coef = 0;
  bool global_load_balance = false;

  // kept for generation_config.json and config.json round trips
  std::optional<int64_t> bos_token_id, pad_token_id;
  std::vector<int64_t> eos_token_ids;
  std::string torch_dtype = "float32";

  bool is_moe_layer(int64_t layer) const;
  bool is_sliding_layer(int64_t layer) const {
    return sliding_window > 0 && sliding_layers[size_t(layer)];
  }
  nn::RopeConfig rope() const;
  nn::BlockConfig block(int64_t layer) const;
};

// From config.json's object (any transformers 4.x/5.x writer). `source` names the file in errors.
ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& source = "config.json");
ModelConfig load_hf_config(const std::string& path);
// config.json for transformers (4.x layout, which 5.x also reads). Throws kiln::Error naming the
// field when the config uses a variant its family cannot express in HF.
nlohmann::json to_hf_config(const ModelConfig& c);

// A preset by name ("qwen3-0.6b": configs/models/qwen3-0.6b.yaml, searched in $KILN_PRESETS and
// the installed/source preset folder) or a path to a .yaml file. Same fields as config.json.
ModelConfig load_preset(const std::string& name_or_path);
// Names of the presets found.
std::vector<std::string> preset_names();

// Checks every field against the others; throws kiln::Error naming the field.
void validate(const ModelConfig& c);

}  // namespace kiln::models
