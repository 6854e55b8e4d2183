// config.json -> ModelConfig. Every key is read through Fields, which checks its JSON type, names
// the key and the file in errors, and remembers what was read so that unknown keys are reported.
#include "kiln/models/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "kiln/models/families.h"

namespace kiln::models {

using nlohmann::json;

namespace {

// Keys transformers writes that do not change the model's math.
const std::set<std::string>& ignored_keys() {
  static const std::set<std::string> k{"transformers_version",
                                       "use_cache",
                                       "_name_or_path",
                                       "attention_dropout",
                                       "pretraining_tp",
                                       "output_router_logits",
                                       "return_dict",
                                       "output_hidden_states",
                                       "output_attentions",
                                       "torchscript",
                                       "use_bfloat16",
                                       "tf_legacy_loss",
                                       "pruned_heads",
                                       "tie_encoder_decoder",
                                       "is_decoder",
                                       "is_encoder_decoder",
                                       "add_cross_attention",
                                       "chunk_size_feed_forward",
                                       "cross_attention_hidden_size",
                                       "finetuning_task",
                                       "id2label",
                                       "label2id",
                                       "tokenizer_class",
                                       "prefix",
                                       "sep_token_id",
                                       "decoder_start_token_id",
                                       "task_specific_params",
                                       "problem_type",
                                       "_attn_implementation_autoset",
                                       "_attn_implementation",
                                       "max_length",
                                       "min_length",
                                       "do_sample",
                                       "early_stopping",
                                       "num_beams",
                                       "num_beam_groups",
                                       "diversity_penalty",
                                       "temperature",
                                       "top_k",
                                       "top_p",
                                       "typical_p",
                                       "repetition_penalty",
                                       "length_penalty",
                                       "no_repeat_ngram_size",
                                       "encoder_no_repeat_ngram_size",
                                       "bad_words_ids",
                                       "num_return_sequences",
                                       "output_scores",
                                       "return_dict_in_generate",
                                       "forced_bos_token_id",
                                       "forced_eos_token_id",
                                       "remove_invalid_values",
                                       "exponential_decay_length_penalty",
                                       "suppress_tokens",
                                       "begin_suppress_tokens",
                                       "embd_pdrop",
                                       "resid_pdrop",
                                       "dropout",
                                       "is_llama_config"};
  return k;
}

const char* json_type(const json& v) {
  return v.type_name();
}

class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    KILN_REQUIRE(j.is_object(), where_, ": found ", json_type(j), ", expected an object");
  }
  bool has(const std::string& k) const { return j_.contains(k) && !j_.at(k).is_null(); }
  bool present(const std::string& k) const { return j_.contains(k); }
  const json* raw(const std::string& k) {
    used_.insert(k);
    return has(k) ? &j_.at(k) : nullptr;
  }
  void skip(const std::string& k) { used_.insert(k); }
  std::string name(const std::string& k) const { return where_ + ": field " + k; }

  int64_t integer(const std::string& k, int64_t def) {
    const json* v = raw(k);
    if (!v) return def;
    if (v->is_number_unsigned() && v->get<uint64_t>() <= uint64_t(INT64_MAX))
      return int64_t(v->get<uint64_t>());
    if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<int64_t>();
    // 2.0 is accepted as 2; the range check comes first because casting an out-of-range double
    // to an integer is undefined (found by the config fuzzer).
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (std::abs(d) < 0x1p62 && d == std::trunc(d)) return int64_t(d);
    }
    throw Error(str(name(k), ": found ", dump(*v), ", expected an integer"));
  }
  int64_t required_integer(const std::string& k) {
    KILN_REQUIRE(has(k), name(k), ": missing, expected an integer");
    return integer(k, 0);
  }
  double number(const std::string& k, double def) {
    const json* v = raw(k);
    if (!v) return def;
    KILN_REQUIRE(v->is_number(), name(k), ": found ", dump(*v), ", expected a number");
    return v->get<double>();
  }
  bool boolean(const std::string& k, bool def) {
    const json* v = raw(k);
    if (!v) return def;
    KILN_REQUIRE(v->is_boolean(), name(k), ": found ", dump(*v), ", expected true or false");
    return v->get<bool>();
  }
  std::string string(const std::string& k, const std::string& def) {
    const json* v = raw(k);
    if (!v) return def;
    KILN_REQUIRE(v->is_string(), name(k), ": found ", dump(*v), ", expected a string");
    return v->get<std::string>();
  }
  std::vector<int64_t> integers(const std::string& k) {
    const json* v = raw(k);
    std::vector<int64_t> out;
    if (!v) return out;
    if (v->is_number_integer()) return {v->get<int64_t>()};
    KILN_REQUIRE(v->is_array(), name(k), ": found ", dump(*v), ", expected a list of integers");
    for (const json& e : *v) {
      KILN_REQUIRE(e.is_number_integer(), name(k), ": found element ", dump(e),
                   ", expected an integer");
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  std::vector<std::string> strings(const std::string& k) {
    const json* v = raw(k);
    std::vector<std::string> out;
    if (!v) return out;
    KILN_REQUIRE(v->is_array(), name(k), ": found ", dump(*v), ", expected a list of strings");
    for (const json& e : *v) {
      KILN_REQUIRE(e.is_string(), name(k), ": found element ", dump(e), ", expected a string");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  // Every key not read is unknown, unless transformers writes it without meaning (`ignorable`).
  void finish(bool ignorable) const {
    for (const auto& [k, v] : j_.items()) {
      if (used_.count(k) || (ignorable && ignored_keys().count(k))) continue;
      throw Error(str(where_, ": unknown field \"", k, "\" (found ", dump(v),
                      "), expected a field of kiln/models/config.h"));
    }
  }

 private:
  static std::string dump(const json& v) {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  }
  const json& j_;
  std::string where_;
  std::set<std::string> used_;
};

// rope_scaling (4.x) or rope_parameters (5.x, which also carries rope_theta and
// partial_rotary_factor).
void read_rope(Fields& f, const std::string& key, ModelConfig& c) {
  const json* v = f.raw(key);
  if (!v) return;
  Fields r(*v, f.name(key));
  nn::RopeScaling& s = c.rope_scaling;
  std::string type = r.string("rope_type", "");
  std::string legacy = r.string("type", "");
  s.rope_type = !type.empty() ? type : (!legacy.empty() ? legacy : "default");
  s.factor = r.number("factor", 1.0);
  s.original_max_position_embeddings = r.integer("original_max_position_embeddings", 0);
  s.attention_factor = r.number("attention_factor", 0);
  s.beta_fast = r.number("beta_fast", 32);
  s.beta_slow = r.number("beta_slow", 1);
  s.mscale = r.number("mscale", 0);
  s.mscale_all_dim = r.number("mscale_all_dim", 0);
  s.truncate = r.boolean("truncate", true);
  s.low_freq_factor = r.number("low_freq_factor", 1);
  s.high_freq_factor = r.number("high_freq_factor", 4);
  if (key == "rope_parameters") {
    c.rope_theta = r.number("rope_theta", c.rope_theta);
    c.partial_rotary_factor = r.number("partial_rotary_factor", c.partial_rotary_factor);
  }
  r.finish(false);
}

const Family& pick_family(Fields& f, ModelConfig& c) {
  std::vector<std::string> arch = f.strings("architectures");
  c.model_type = f.string("model_type", "");
  const Family* fam = nullptr;
  if (!arch.empty()) {
    fam = find_family_by_architecture(arch[0]);
    KILN_REQUIRE(fam || !c.model_type.empty(), f.name("architectures"), ": found \"", arch[0],
                 "\", expected LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, ",
                 "Qwen3ForCausalLM or Qwen3MoeForCausalLM");
  }
  KILN_REQUIRE(fam || !c.model_type.empty(), f.name("model_type"),
               ": missing (and no architectures), expected one of llama, mistral, qwen2, ",
               "qwen3, qwen3_moe");
  if (!c.model_type.empty()) {
    const Family& by_type = family_by_model_type(c.model_type);
    KILN_REQUIRE(!fam || fam == &by_type, f.name("architectures"), ": found \"", arch[0],
                 "\", expected \"", by_type.architecture, "\" for model_type ", c.model_type);
    fam = &by_type;
  }
  c.model_type = fam->model_type;
  c.architecture = fam->architecture;
  return *fam;
}

void read_windows(Fields& f, const Family& fam, ModelConfig& c) {
  // Absent means the family's default; null means no window.
  int64_t window =
      f.present("sliding_window") ? f.integer("sliding_window", 0) : fam.default_sliding_window;
  f.skip("sliding_window");
  bool use = f.boolean("use_sliding_window", false);
  int64_t max_window_layers = f.integer("max_window_layers", 28);
  int64_t pattern = f.integer("sliding_window_pattern", 0);
  std::vector<std::string> types = f.strings("layer_types");
  int64_t n = c.num_hidden_layers;
  c.sliding_layers.assign(size_t(n), false);
  if (!types.empty()) {
    KILN_REQUIRE(int64_t(types.size()) == n, f.name("layer_types"), ": found ", types.size(),
                 " entries, expected num_hidden_layers = ", n);
    for (int64_t i = 0; i < n; ++i) {
      const std::string& t = types[size_t(i)];
      KILN_REQUIRE(t == "full_attention" || t == "sliding_attention", f.name("layer_types"),
                   ": found \"", t, "\" at layer ", i,
                   ", expected \"full_attention\" or \"sliding_attention\"");
      c.sliding_layers[size_t(i)] = t == "sliding_attention";
    }
  } else if (pattern > 0) {
    for (int64_t i = 0; i < n; ++i) c.sliding_layers[size_t(i)] = (i + 1) % pattern != 0;
  } else if (fam.sliding == SlidingRule::AllLayers) {
    c.sliding_layers.assign(size_t(n), true);
  } else if (fam.sliding == SlidingRule::FromMaxWindowLayers && use) {
    for (int64_t i = max_window_layers; i < n; ++i) c.sliding_layers[size_t(i)] = true;
  }
  // As in transformers, a sliding layer without a window (null) attends to everything.
  KILN_REQUIRE(window >= 0, f.name("sliding_window"), ": found ", window, ", expected >= 0");
  if (window == 0) c.sliding_layers.assign(size_t(n), false);
  bool any =
      std::find(c.sliding_layers.begin(), c.sliding_layers.end(), true) != c.sliding_layers.end();
  c.sliding_window = any ? window : 0;
}

void read_moe(Fields& f, const Family& fam, ModelConfig& c) {
  c.num_experts = f.integer("num_experts", 0);
  if (f.has("num_local_experts")) c.num_experts = f.integer("num_local_experts", 0);
  f.skip("num_local_experts");
  c.num_experts_per_tok = f.integer("num_experts_per_tok", c.num_experts > 0 ? 1 : 0);
  c.moe_intermediate_size = f.integer("moe_intermediate_size", c.intermediate_size);
  c.shared_expert_intermediate_size = f.integer("shared_expert_intermediate_size", 0);
  c.norm_topk_prob = f.boolean("norm_topk_prob", fam.default_norm_topk_prob);
  c.decoder_sparse_step = f.integer("decoder_sparse_step", 1);
  c.mlp_only_layers = f.integers("mlp_only_layers");
  c.router_aux_loss_coef = f.number("router_aux_loss_coef", 0.001);
  c.router_score =
      nn::parse_router_score(f.string("router_score", "softmax"), f.name("router_score"));
  c.capacity_factor = f.number("capacity_factor", 0);
  c.router_z_loss_coef = f.number("router_z_loss_coef", 0);
  c.global_load_balance = f.boolean("global_load_balance", false);
}

void read_kiln_fields(Fields& f, const Family& fam, ModelConfig& c) {
  std::string pos = f.string("positions", "rope");
  if (pos == "rope")
    c.positions = Positions::Rope;
  else if (pos == "alibi")
    c.positions = Positions::Alibi;
  else if (pos == "none")
    c.positions = Positions::None;
  else
    throw Error(str(f.name("positions"), ": found \"", pos, "\", expected rope, alibi or none"));
  c.norm_type = nn::parse_norm_kind(f.string("norm_type", "rmsnorm"), f.name("norm_type"));
  std::string where = f.string("norm_position", "pre");
  KILN_REQUIRE(where == "pre" || where == "post", f.name("norm_position"), ": found \"", where,
               "\", expected \"pre\" or \"post\"");
  c.post_norm = where == "post";
  c.ffn_kind = nn::parse_ffn_kind(f.string("ffn_kind", "glu"), f.name("ffn_kind"));
  c.qk_norm = f.boolean("qk_norm", fam.qk_norm);
  c.qkv_bias = f.boolean("qkv_bias", fam.qkv_bias);
  c.attn_output_gate = f.boolean("attn_output_gate", false);
}

void read_special_tokens(Fields& f, ModelConfig& c) {
  if (f.has("bos_token_id")) c.bos_token_id = f.integer("bos_token_id", 0);
  if (f.has("pad_token_id")) c.pad_token_id = f.integer("pad_token_id", 0);
  c.eos_token_ids = f.integers("eos_token_id");
  f.skip("bos_token_id");
  f.skip("pad_token_id");
  std::string dt = f.string("torch_dtype", "float32");
  c.torch_dtype = f.string("dtype", dt);
}

}  // namespace

ModelConfig parse_hf_config(const json& j, const std::string& source) {
  Fields f(j, source);
  ModelConfig c;
  const Family& fam = pick_family(f, c);
  c.vocab_size = f.required_integer("vocab_size");
  c.hidden_size = f.required_integer("hidden_size");
  c.num_hidden_layers = f.required_integer("num_hidden_layers");
  c.num_attention_heads = f.required_integer("num_attention_heads");
  c.intermediate_size = f.integer("intermediate_size", 0);
  int64_t kv_default = fam.default_kv_heads > 0 ? fam.default_kv_heads : c.num_attention_heads;
  c.num_key_value_heads = f.integer("num_key_value_heads", kv_default);
  int64_t hd_default =
      fam.default_head_dim > 0
          ? fam.default_head_dim
          : (c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
  c.head_dim = f.integer("head_dim", hd_default);
  c.hidden_act = f.string("hidden_act", "silu");
  c.max_position_embeddings =
      f.integer("max_position_embeddings", fam.default_max_position_embeddings);
  c.initializer_range = f.number("initializer_range", 0.02);
  c.rms_norm_eps = f.number("rms_norm_eps", fam.default_rms_norm_eps);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  c.attention_bias = f.boolean("attention_bias", false);
  c.mlp_bias = f.boolean("mlp_bias", false);
  c.rope_theta = f.number("rope_theta", 10000);
  c.partial_rotary_factor = f.number("partial_rotary_factor", 1.0);
  KILN_REQUIRE(!f.boolean("rope_interleaved", false), f.name("rope_interleaved"),
               ": found true, expected false (kiln rotates halves, as Llama)");
  read_rope(f, "rope_scaling", c);
  read_rope(f, "rope_parameters", c);
  read_windows(f, fam, c);
  read_moe(f, fam, c);
  read_kiln_fields(f, fam, c);
  read_special_tokens(f, c);
  f.finish(true);
  validate(c);
  return c;
}

ModelConfig load_hf_config(const std::string& path) {
  std::ifstream in(path);
  KILN_REQUIRE(in, path, ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(str(path, ": not valid JSON: ", e.what()));
  }
  return parse_hf_config(j, path);
}

}  // namespace kiln::models
