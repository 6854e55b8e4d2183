#include "kiln/models/info.h"

#include <algorithm>

namespace kiln::models {

namespace {

int64_t norm_params(const ModelConfig& c, int64_t dim) {
  return c.norm_type == nn::NormKind::LayerNorm ? 2 * dim : dim;
}

int64_t mlp_matmul(int64_t d, int64_t i, bool glu) {
  return (glu ? 3 : 2) * d * i;
}

struct LayerParams {
  int64_t matmul_total = 0, matmul_active = 0, other = 0;
};

LayerParams layer_params(const ModelConfig& c, int64_t layer) {
  LayerParams p;
  int64_t d = c.hidden_size, hq = c.num_attention_heads * c.head_dim;
  int64_t hkv = c.num_key_value_heads * c.head_dim;
  int64_t attn = d * hq * (c.attn_output_gate ? 2 : 1) + 2 * d * hkv + hq * d;
  p.matmul_total = p.matmul_active = attn;
  bool qkv_bias = c.attention_bias || c.qkv_bias;
  if (qkv_bias) p.other += hq * (c.attn_output_gate ? 2 : 1) + 2 * hkv;
  if (c.attention_bias) p.other += d;
  if (c.qk_norm) p.other += 2 * c.head_dim;
  p.other += 2 * norm_params(c, d);
  if (c.is_moe_layer(layer)) {
    int64_t expert = mlp_matmul(d, c.moe_intermediate_size, true);
    int64_t router = c.num_experts * d;
    int64_t shared = 0;
    if (c.shared_expert_intermediate_size > 0)
      shared = mlp_matmul(d, c.shared_expert_intermediate_size, true) + d;
    p.matmul_total += router + c.num_experts * expert + shared;
    p.matmul_active += router + c.num_experts_per_tok * expert + shared;
  } else {
    int64_t mlp = mlp_matmul(d, c.intermediate_size, c.ffn_kind == nn::FfnKind::Glu);
    p.matmul_total += mlp;
    p.matmul_active += mlp;
    if (c.mlp_bias) p.other += (c.ffn_kind == nn::FfnKind::Glu ? 2 : 1) * c.intermediate_size + d;
  }
  return p;
}

}  // namespace

ParamCounts count_params(const ModelConfig& c) {
  ParamCounts p;
  p.embedding = c.vocab_size * c.hidden_size;
  p.lm_head = c.tie_word_embeddings ? 0 : p.embedding;
  int64_t final_norm = norm_params(c, c.hidden_size);
  p.total = p.embedding + p.lm_head + final_norm;
  p.active = p.total;
  p.active_matmul = p.embedding;  // the LM head multiplies whether tied or not
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    LayerParams l = layer_params(c, i);
    p.total += l.matmul_total + l.other;
    p.active += l.matmul_active + l.other;
    p.active_matmul += l.matmul_active;
  }
  return p;
}

double flops_per_token(const ModelConfig& c, int64_t context) {
  double f = 2.0 * double(count_params(c).active_matmul);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    int64_t keys = c.is_sliding_layer(i) ? std::min(context, c.sliding_window) : context;
    f += 4.0 * double(c.num_attention_heads * c.head_dim) * double(keys);
  }
  return f;
}

int64_t kv_bytes_per_token_per_layer(const ModelConfig& c, DType dt) {
  return int64_t(dtype_nbytes(dt, 2 * c.num_key_value_heads * c.head_dim));
}

int64_t kv_bytes_per_token(const ModelConfig& c, DType dt) {
  return kv_bytes_per_token_per_layer(c, dt) * c.num_hidden_layers;
}

int64_t kv_bytes(const ModelConfig& c, int64_t context, DType dt) {
  int64_t b = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    int64_t keys = c.is_sliding_layer(i) ? std::min(context, c.sliding_window) : context;
    b += keys * kv_bytes_per_token_per_layer(c, dt);
  }
  return b;
}

ServeMemory serve_memory(const ModelConfig& c, int64_t context, DType kv_dtype) {
  int64_t n = count_params(c).total;
  ServeMemory m;
  m.weights_bf16 = 2 * n;
  m.weights_int8 = (n * 34 + 31) / 32;
  m.weights_int4 = (n * 144 + 255) / 256;
  m.kv = kv_bytes(c, context, kv_dtype);
  return m;
}

TrainMemory train_memory(const ModelConfig& c, int64_t tokens) {
  int64_t n = count_params(c).total;
  TrainMemory m;
  m.weights = 2 * n;
  m.grads = 2 * n;
  m.master = 4 * n;
  m.moments = 8 * n;
  int64_t d = c.hidden_size, hq = c.num_attention_heads * c.head_dim;
  int64_t hkv = c.num_key_value_heads * c.head_dim;
  int64_t per_token = d;  // embedding output
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    int64_t e = 4 * d + hq + 2 * hkv + hq;  // residuals, normed inputs, q, k, v, attention out
    if (c.qk_norm) e += hq + hkv;
    if (c.attn_output_gate) e += hq;
    if (c.is_moe_layer(i))
      e += c.num_experts_per_tok * (2 * d + 3 * c.moe_intermediate_size) + c.num_experts +
           (c.shared_expert_intermediate_size > 0 ? 3 * c.shared_expert_intermediate_size : 0);
    else
      e += (c.ffn_kind == nn::FfnKind::Glu ? 3 : 2) * c.intermediate_size;
    per_token += e;
  }
  m.activations = tokens * (2 * per_token + 8 * c.vocab_size);
  return m;
}

}  // namespace kiln::models
