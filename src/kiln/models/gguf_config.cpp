// ModelConfig <-> GGUF metadata, with the keys llama.cpp reads (llama-arch.cpp's LLM_KV names).
#include <cmath>
#include <nlohmann/json.hpp>

#include "kiln/models/families.h"
#include "kiln/models/gguf_model.h"
#include "kiln/models/gguf_rope_freqs.h"

namespace kiln::models {

namespace {

using io::GGUFValue;

// general.file_type (llama.cpp's llama_ftype) of the matrices' type.
uint32_t file_type(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::Q4_0:
      return 2;
    case DType::Q8_0:
      return 7;
    case DType::Q4_K:
      return 15;  // Q4_K_M, the nearest of llama.cpp's names
    case DType::BF16:
      return 32;
    default:
      throw Error(
          str("GGUF type: found ", dtype_name(t), ", expected f32, f16, bf16, q8_0, q4_0 or q4_k"));
  }
}

const Family& family_of(const ModelConfig& c) {
  const Family& f = family_by_model_type(c.model_type);
  KILN_REQUIRE(f.gguf_arch == "llama" || f.gguf_arch == "qwen2" || f.gguf_arch == "qwen3" ||
                   f.gguf_arch == "qwen3moe",
               "GGUF: model_type ", c.model_type, " has no GGUF architecture kiln writes");
  return f;
}

// Refuses what llama.cpp's architecture for `f` would compute differently.
void require_expressible(const ModelConfig& c, const Family& f) {
  auto need = [&](bool ok, const char* field, const std::string& found, const char* want) {
    KILN_REQUIRE(ok, "GGUF (", f.gguf_arch, "): ", field, ": found ", found, ", expected ", want);
  };
  need(c.positions == Positions::Rope, "positions", "not rope", "rope");
  need(c.norm_type == nn::NormKind::RMSNorm, "norm_type", "layernorm", "rmsnorm");
  need(!c.post_norm, "norm_position", "post", "pre");
  need(c.ffn_kind == nn::FfnKind::Glu && c.hidden_act == "silu", "ffn_kind/hidden_act",
       c.hidden_act, "a SwiGLU MLP (glu, silu)");
  need(!c.attn_output_gate, "attn_output_gate", "true", "false");
  need(c.qk_norm == f.qk_norm, "qk_norm", c.qk_norm ? "true" : "false",
       f.qk_norm ? "true" : "false");
  need(c.sliding_window == 0, "sliding_window", std::to_string(c.sliding_window),
       "none (sliding windows are not written to GGUF yet)");
  const std::string& rt = c.rope_scaling.rope_type;
  need(rt == "default" || rt == "linear" || rt == "yarn" ||
           (rt == "llama3" && f.gguf_arch == "llama"),
       "rope_scaling.rope_type", rt, "default, linear, yarn, or llama3 for llama");
  // llama3 travels as rope_freqs.weight; the load side must be able to recover the parameters.
  if (rt == "llama3")
    llama3_from_freq_factors(llama3_freq_factors(c.rope()), c.rope(), "GGUF (llama)");
  need(rt != "yarn" || (c.rope_scaling.mscale == 0 && c.rope_scaling.mscale_all_dim == 0 &&
                        c.rope_scaling.truncate),
       "rope_scaling (yarn)", "mscale, mscale_all_dim or truncate", "none of them");
  need(f.gguf_arch != "llama" || c.partial_rotary_factor == 1.0, "partial_rotary_factor",
       std::to_string(c.partial_rotary_factor), "1 for llama");
  if (c.num_experts > 0) {
    need(f.moe, "num_experts", std::to_string(c.num_experts), "0 for a dense family");
    need(c.norm_topk_prob, "norm_topk_prob", "false", "true (llama.cpp's qwen3moe normalizes)");
    need(c.shared_expert_intermediate_size == 0, "shared_expert_intermediate_size",
         std::to_string(c.shared_expert_intermediate_size), "0");
    need(c.router_score == nn::RouterScore::Softmax, "router_score", "sigmoid", "softmax");
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      need(c.is_moe_layer(i), "mlp_only_layers / decoder_sparse_step",
           "a dense layer " + std::to_string(i), "every layer MoE");
  }
}

uint32_t u32(int64_t v, const char* field) {
  KILN_REQUIRE(v >= 0 && v <= int64_t(UINT32_MAX), "GGUF: ", field, ": found ", v,
               ", expected a u32");
  return uint32_t(v);
}

}  // namespace

void write_gguf_config(const ModelConfig& c, io::GGUFWriter& w, DType type) {
  const Family& f = family_of(c);
  require_expressible(c, f);
  const std::string a = f.gguf_arch + ".";
  w.set("general.architecture", GGUFValue::str(f.gguf_arch));
  w.set("general.name", GGUFValue::str(c.model_type));
  w.set("general.file_type", GGUFValue::u32(file_type(type)));
  if (is_quantized(type)) w.set("general.quantization_version", GGUFValue::u32(2));
  w.set(a + "vocab_size", GGUFValue::u32(u32(c.vocab_size, "vocab_size")));
  w.set(a + "context_length", GGUFValue::u32(u32(c.max_position_embeddings, "context_length")));
  w.set(a + "embedding_length", GGUFValue::u32(u32(c.hidden_size, "hidden_size")));
  w.set(a + "block_count", GGUFValue::u32(u32(c.num_hidden_layers, "num_hidden_layers")));
  w.set(a + "feed_forward_length", GGUFValue::u32(u32(c.intermediate_size, "intermediate_size")));
  w.set(a + "attention.head_count", GGUFValue::u32(u32(c.num_attention_heads, "heads")));
  w.set(a + "attention.head_count_kv", GGUFValue::u32(u32(c.num_key_value_heads, "kv heads")));
  w.set(a + "attention.key_length", GGUFValue::u32(u32(c.head_dim, "head_dim")));
  w.set(a + "attention.value_length", GGUFValue::u32(u32(c.head_dim, "head_dim")));
  w.set(a + "attention.layer_norm_rms_epsilon", GGUFValue::f32(float(c.rms_norm_eps)));
  w.set(a + "rope.freq_base", GGUFValue::f32(float(c.rope_theta)));
  w.set(a + "rope.dimension_count", GGUFValue::u32(u32(c.rope().rotary_dim(), "rotary dims")));
  const nn::RopeScaling& s = c.rope_scaling;
  if (s.rope_type != "default" && s.rope_type != "llama3") {
    w.set(a + "rope.scaling.type", GGUFValue::str(s.rope_type));
    w.set(a + "rope.scaling.factor", GGUFValue::f32(float(s.factor)));
    int64_t orig = s.original_max_position_embeddings;
    if (orig > 0)
      w.set(a + "rope.scaling.original_context_length",
            GGUFValue::u32(u32(orig, "original_max_position_embeddings")));
  }
  if (s.rope_type == "yarn") {
    if (s.attention_factor != 0)
      w.set(a + "rope.scaling.attn_factor", GGUFValue::f32(float(s.attention_factor)));
    w.set(a + "rope.scaling.yarn_beta_fast", GGUFValue::f32(float(s.beta_fast)));
    w.set(a + "rope.scaling.yarn_beta_slow", GGUFValue::f32(float(s.beta_slow)));
  }
  if (c.num_experts > 0) {
    w.set(a + "expert_count", GGUFValue::u32(u32(c.num_experts, "num_experts")));
    w.set(a + "expert_used_count", GGUFValue::u32(u32(c.num_experts_per_tok, "experts per tok")));
    w.set(a + "expert_feed_forward_length",
          GGUFValue::u32(u32(c.moe_intermediate_size, "moe_intermediate_size")));
  }
  if (c.bos_token_id)
    w.set("tokenizer.ggml.bos_token_id", GGUFValue::u32(u32(*c.bos_token_id, "bos_token_id")));
  if (!c.eos_token_ids.empty())
    w.set("tokenizer.ggml.eos_token_id", GGUFValue::u32(u32(c.eos_token_ids[0], "eos_token_id")));
  if (c.pad_token_id)
    w.set("tokenizer.ggml.padding_token_id", GGUFValue::u32(u32(*c.pad_token_id, "pad_token_id")));
}

namespace {

// Reads <arch>.* keys, naming the key and the file in errors.
struct Meta {
  const io::GGUFReader& r;
  std::string arch;
  const GGUFValue* find(const std::string& k) const { return r.find(arch + "." + k); }
  const GGUFValue& get(const std::string& k) const {
    const GGUFValue* v = find(k);
    KILN_REQUIRE(v, r.path(), ": metadata key ", arch, ".", k, " is missing");
    return *v;
  }
  int64_t integer(const std::string& k) const {
    int64_t v = get(k).as_int();
    KILN_REQUIRE(v > 0, r.path(), ": ", arch, ".", k, ": found ", v, ", expected > 0");
    return v;
  }
  int64_t integer(const std::string& k, int64_t dflt) const { return find(k) ? integer(k) : dflt; }
  double number(const std::string& k, double dflt) const {
    const GGUFValue* v = find(k);
    return v ? v->as_float() : dflt;
  }
};

const Family& family_by_gguf_arch(const std::string& arch, const std::string& where) {
  std::string known;
  for (const Family& f : families()) {
    if (f.gguf_arch == arch) return f;  // the first: llama, not mistral
    if (known.find(f.gguf_arch) == std::string::npos)
      known += (known.empty() ? "" : ", ") + f.gguf_arch;
  }
  throw Error(str(where, ": general.architecture: found \"", arch, "\", expected one of ", known));
}

}  // namespace

ModelConfig gguf_config(const io::GGUFReader& r) {
  const std::string& arch = r.get("general.architecture").as_string();
  const Family& f = family_by_gguf_arch(arch, r.path());
  Meta m{r, arch};
  nlohmann::json j;
  j["model_type"] = f.model_type;
  j["architectures"] = {f.architecture};
  const io::GGUFTensorInfo* embd = r.find_tensor("token_embd.weight");
  KILN_REQUIRE(embd && embd->shape.size() == 2, r.path(),
               ": tensor token_embd.weight: missing or not 2-D, expected [vocab, hidden]");
  j["vocab_size"] = embd->shape[0];
  int64_t hidden = m.integer("embedding_length");
  int64_t heads = m.integer("attention.head_count");
  j["hidden_size"] = hidden;
  j["num_hidden_layers"] = m.integer("block_count");
  j["num_attention_heads"] = heads;
  j["num_key_value_heads"] = m.integer("attention.head_count_kv", heads);
  int64_t head_dim = m.integer("attention.key_length", hidden / heads);
  int64_t value_dim = m.integer("attention.value_length", head_dim);
  KILN_REQUIRE(value_dim == head_dim, r.path(), ": ", arch, ".attention.value_length: found ",
               value_dim, ", expected key_length ", head_dim);
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = m.integer("context_length");
  j["rms_norm_eps"] = m.get("attention.layer_norm_rms_epsilon").as_float();
  j["tie_word_embeddings"] = r.find_tensor("output.weight") == nullptr;
  // llama stores q/k/v biases and the output bias only when the model has them.
  if (f.gguf_arch == "llama") j["attention_bias"] = r.find_tensor("blk.0.attn_q.bias") != nullptr;
  j["mlp_bias"] = r.find_tensor("blk.0.ffn_up.bias") != nullptr;

  nlohmann::json rope = {{"rope_theta", m.number("rope.freq_base", 10000.0)}};
  int64_t rot = m.integer("rope.dimension_count", head_dim);
  if (rot != head_dim) rope["partial_rotary_factor"] = double(rot) / double(head_dim);
  std::string type = "default";
  if (const GGUFValue* t = m.find("rope.scaling.type")) type = t->as_string();
  if (type == "none") type = "default";
  KILN_REQUIRE(type == "default" || type == "linear" || type == "yarn", r.path(), ": ", arch,
               ".rope.scaling.type: found \"", type, "\", expected none, linear or yarn");
  rope["rope_type"] = type;
  if (type != "default") {
    rope["factor"] = m.get("rope.scaling.factor").as_float();
    if (m.find("rope.scaling.original_context_length"))
      rope["original_max_position_embeddings"] = m.integer("rope.scaling.original_context_length");
  }
  if (type == "yarn") {
    if (m.find("rope.scaling.attn_factor"))
      rope["attention_factor"] = m.get("rope.scaling.attn_factor").as_float();
    rope["beta_fast"] = m.number("rope.scaling.yarn_beta_fast", 32);
    rope["beta_slow"] = m.number("rope.scaling.yarn_beta_slow", 1);
  }
  if (const io::GGUFTensorInfo* rf = r.find_tensor("rope_freqs.weight")) {
    KILN_REQUIRE(type == "default", r.path(), ": rope_freqs.weight beside ", arch,
                 ".rope.scaling.type ", type, ", expected one or the other");
    nn::RopeConfig base;
    base.head_dim = head_dim;
    base.theta = rope["rope_theta"].get<double>();
    base.partial_rotary_factor = double(rot) / double(head_dim);
    base.max_position_embeddings = m.integer("context_length");
    KILN_REQUIRE(rf->shape.size() == 1, r.path(), ": rope_freqs.weight: found shape ",
                 shape_str(rf->shape), ", expected [", rot / 2, "]");
    std::vector<float> factors = r.tensor("rope_freqs.weight").to(DType::F32).to_vector<float>();
    nn::RopeScaling s = llama3_from_freq_factors(factors, base, r.path());
    rope["rope_type"] = "llama3";
    rope["factor"] = s.factor;
    rope["low_freq_factor"] = s.low_freq_factor;
    rope["high_freq_factor"] = s.high_freq_factor;
    rope["original_max_position_embeddings"] = s.original_max_position_embeddings;
  }
  j["rope_parameters"] = rope;

  if (f.moe) {
    j["num_experts"] = m.integer("expert_count");
    j["num_experts_per_tok"] = m.integer("expert_used_count");
    j["moe_intermediate_size"] = m.integer("expert_feed_forward_length");
    j["norm_topk_prob"] = true;
    j["intermediate_size"] =
        m.integer("feed_forward_length", m.integer("expert_feed_forward_length"));
  } else {
    j["intermediate_size"] = m.integer("feed_forward_length");
  }
  if (const GGUFValue* v = r.find("tokenizer.ggml.bos_token_id")) j["bos_token_id"] = v->as_int();
  if (const GGUFValue* v = r.find("tokenizer.ggml.eos_token_id")) j["eos_token_id"] = v->as_int();
  if (const GGUFValue* v = r.find("tokenizer.ggml.padding_token_id"))
    j["pad_token_id"] = v->as_int();
  return parse_hf_config(j, r.path());
}

}  // namespace kiln::models
