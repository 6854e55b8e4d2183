#include "kiln/models/families.h"

namespace kiln::models {

const std::vector<Family>& families() {
  static const std::vector<Family> f = [] {
    std::vector<Family> v;
    Family llama{"llama", "LlamaForCausalLM", "llama"};
    llama.default_max_position_embeddings = 2048;
    v.push_back(llama);

    Family mistral{"mistral", "MistralForCausalLM", "llama"};
    mistral.sliding = SlidingRule::AllLayers;
    mistral.default_kv_heads = 8;
    mistral.default_max_position_embeddings = 4096 * 32;
    mistral.default_sliding_window = 4096;
    v.push_back(mistral);

    Family qwen2{"qwen2", "Qwen2ForCausalLM", "qwen2"};
    qwen2.qkv_bias = true;
    qwen2.sliding = SlidingRule::FromMaxWindowLayers;
    qwen2.default_max_position_embeddings = 32768;
    qwen2.default_sliding_window = 4096;
    v.push_back(qwen2);

    Family qwen3{"qwen3", "Qwen3ForCausalLM", "qwen3"};
    qwen3.qk_norm = true;
    qwen3.sliding = SlidingRule::FromMaxWindowLayers;
    qwen3.default_head_dim = 128;
    qwen3.default_max_position_embeddings = 32768;
    qwen3.default_sliding_window = 4096;
    v.push_back(qwen3);

    Family moe = qwen3;
    moe.model_type = "qwen3_moe";
    moe.architecture = "Qwen3MoeForCausalLM";
    moe.gguf_arch = "qwen3moe";
    moe.moe = true;
    moe.default_kv_heads = 4;
    moe.default_head_dim = 0;
    v.push_back(moe);
    return v;
  }();
  return f;
}

const Family& family_by_model_type(const std::string& model_type) {
  std::string known;
  for (const Family& f : families()) {
    if (f.model_type == model_type) return f;
    known += (known.empty() ? "" : ", ") + f.model_type;
  }
  throw Error(str("model_type: found \"", model_type, "\", expected one of ", known));
}

const Family* find_family_by_architecture(const std::string& architecture) {
  for (const Family& f : families())
    if (f.architecture == architecture) return &f;
  return nullptr;
}

namespace hf_names {

std::string layer(int64_t i) {
  return "model.layers." + std::to_string(i) + ".";
}

std::pair<std::string, std::string> fused_experts(int64_t i) {
  return {layer(i) + "mlp.experts.gate_up_proj", layer(i) + "mlp.experts.down_proj"};
}

}  // namespace hf_names

namespace {

void add_linear(std::vector<std::string>& out, const std::string& name, bool bias) {
  out.push_back(name + ".weight");
  if (bias) out.push_back(name + ".bias");
}

void add_mlp(std::vector<std::string>& out, const std::string& p, bool glu, bool bias) {
  if (glu) add_linear(out, p + "gate_proj", bias);
  add_linear(out, p + "up_proj", bias);
  add_linear(out, p + "down_proj", bias);
}

void add_norm(std::vector<std::string>& out, const std::string& name, const ModelConfig& c) {
  out.push_back(name + ".weight");
  if (c.norm_type == nn::NormKind::LayerNorm) out.push_back(name + ".bias");
}

}  // namespace

std::vector<std::string> hf_tensor_names(const ModelConfig& c) {
  std::vector<std::string> out{hf_names::embed()};
  bool qkv_bias = c.attention_bias || c.qkv_bias;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = hf_names::layer(i);
    add_linear(out, p + "self_attn.q_proj", qkv_bias);
    add_linear(out, p + "self_attn.k_proj", qkv_bias);
    add_linear(out, p + "self_attn.v_proj", qkv_bias);
    add_linear(out, p + "self_attn.o_proj", c.attention_bias);
    if (c.qk_norm) {
      out.push_back(p + "self_attn.q_norm.weight");
      out.push_back(p + "self_attn.k_norm.weight");
    }
    if (c.is_moe_layer(i)) {
      out.push_back(p + "mlp.gate.weight");
      for (int64_t e = 0; e < c.num_experts; ++e)
        add_mlp(out, p + "mlp.experts." + std::to_string(e) + ".", true, false);
      if (c.shared_expert_intermediate_size > 0) {
        add_mlp(out, p + "mlp.shared_expert.", true, false);
        out.push_back(p + "mlp.shared_expert_gate.weight");
      }
    } else {
      add_mlp(out, p + "mlp.", c.ffn_kind == nn::FfnKind::Glu, c.mlp_bias);
    }
    add_norm(out, p + "input_layernorm", c);
    add_norm(out, p + "post_attention_layernorm", c);
  }
  add_norm(out, "model.norm", c);
  if (!c.tie_word_embeddings) out.push_back(hf_names::lm_head());
  return out;
}

}  // namespace kiln::models
