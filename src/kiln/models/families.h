#pragma once
// The architecture families kiln loads and writes, and what each implies: its Hugging Face
// architecture and model_type, the config flags it fixes (qwen3: qk_norm; qwen2: qkv bias), how
// its config.json spells sliding windows, the defaults of keys a config.json may omit (the HF
// config class defaults), and the tensor names of its checkpoints. The HF loader, the HF exporter
// and the GGUF code read this registry instead of branching on family names.
#include <string>
#include <utility>
#include <vector>

#include "kiln/models/config.h"

namespace kiln::models {

enum class SlidingRule : uint8_t {
  None,                 // llama: no sliding window
  AllLayers,            // mistral: sliding_window applies to every layer
  FromMaxWindowLayers,  // qwen2/qwen3: with use_sliding_window, layers >= max_window_layers
};

struct Family {
  std::string model_type;    // config.json model_type
  std::string architecture;  // config.json architectures[0]
  std::string gguf_arch;     // general.architecture in GGUF (llama.cpp)
  bool qk_norm = false;
  bool qkv_bias = false;
  bool moe = false;
  SlidingRule sliding = SlidingRule::None;
  // HF config class defaults for keys that may be absent
  int64_t default_kv_heads = 0;  // 0: num_attention_heads
  int64_t default_head_dim = 0;  // 0: hidden_size / num_attention_heads
  int64_t default_max_position_embeddings = 2048;
  int64_t default_sliding_window = 0;
  double default_rms_norm_eps = 1e-6;
  bool default_norm_topk_prob = false;
};

const std::vector<Family>& families();
// Throws kiln::Error listing the known model types.
const Family& family_by_model_type(const std::string& model_type);
const Family* find_family_by_architecture(const std::string& architecture);

// Tensor names of a Hugging Face checkpoint, identical to the names of kiln's module tree.
namespace hf_names {
std::string layer(int64_t i);  // "model.layers.{i}."
inline const char* embed() {
  return "model.embed_tokens.weight";
}
inline const char* final_norm() {
  return "model.norm.weight";
}
inline const char* lm_head() {
  return "lm_head.weight";
}
// transformers 5.x stores a layer's experts fused: gate_up_proj [E, 2I, D] (gate rows first) and
// down_proj [E, D, I].
std::pair<std::string, std::string> fused_experts(int64_t layer);
}  // namespace hf_names

// Every tensor of the HF checkpoint of `c` in module order: per-expert MoE names, no lm_head when
// tied. A built Decoder's named_parameters() lists exactly these.
std::vector<std::string> hf_tensor_names(const ModelConfig& c);

}  // namespace kiln::models
